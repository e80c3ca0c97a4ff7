package mocks

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// eksClusterOutputs answers pulumi-eks's multi-language eks:index:Cluster
// component. The real component creates its children in its own plugin; under
// mocks none of them is registered, so the outputs the program reads are
// returned here: plain values as they are, resource-typed outputs as
// references that the SDK then registers (and that are not the program's).
func (m *Mocks) eksClusterOutputs(args pulumi.MockResourceArgs, in resource.PropertyMap) (string, resource.PropertyMap) {
	name := args.Name
	if v, ok := in["name"]; ok && v.IsString() && v.StringValue() != "" {
		name = v.StringValue()
	}
	version := "1.33"
	if v, ok := in["version"]; ok && v.IsString() {
		version = v.StringValue()
	}
	h := hash("eks::" + name)
	oidcID := strings.ToUpper(h[:32])
	issuer := fmt.Sprintf("https://oidc.eks.%s.amazonaws.com/id/%s", m.Region, oidcID)
	endpoint := fmt.Sprintf("https://%s.gr7.%s.eks.amazonaws.com", strings.ToUpper(h[32:64]), m.Region)
	ca := base64.StdEncoding.EncodeToString([]byte("-----BEGIN CERTIFICATE-----\nMOCK\n-----END CERTIFICATE-----\n"))
	clusterSG := "sg-0" + hash(h + "clustersg")[:16]
	arn := fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", m.Region, AccountID, name)

	cluster := resource.PropertyMap{
		"name":     resource.NewProperty(name),
		"arn":      resource.NewProperty(arn),
		"endpoint": resource.NewProperty(endpoint),
		"version":  resource.NewProperty(version),
		"status":   resource.NewProperty("ACTIVE"),
		"certificateAuthority": resource.NewProperty(resource.PropertyMap{
			"data": resource.NewProperty(ca),
		}),
		"vpcConfig": resource.NewProperty(resource.PropertyMap{
			"clusterSecurityGroupId": resource.NewProperty(clusterSG),
			"vpcId":                  valueOr(in, "vpcId"),
		}),
		"identities": resource.NewProperty([]resource.PropertyValue{resource.NewProperty(resource.PropertyMap{
			"oidcs": resource.NewProperty([]resource.PropertyValue{resource.NewProperty(resource.PropertyMap{
				"issuer": resource.NewProperty(issuer),
			})}),
		})}),
	}
	oidcURL := issuer[len("https://"):]
	oidc := resource.PropertyMap{
		"arn":             resource.NewProperty(fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", AccountID, oidcURL)),
		"url":             resource.NewProperty(oidcURL),
		"clientIdLists":   resource.NewProperty([]resource.PropertyValue{resource.NewProperty("sts.amazonaws.com")}),
		"thumbprintLists": resource.NewProperty([]resource.PropertyValue{}),
	}

	kubeconfig := map[string]any{
		"apiVersion":      "v1",
		"kind":            "Config",
		"current-context": "aws",
		"clusters":        []any{map[string]any{"name": "kubernetes", "cluster": map[string]any{"server": endpoint, "certificate-authority-data": ca}}},
		"contexts":        []any{map[string]any{"name": "aws", "context": map[string]any{"cluster": "kubernetes", "user": "aws"}}},
		"users": []any{map[string]any{"name": "aws", "user": map[string]any{"exec": map[string]any{
			"apiVersion": "client.authentication.k8s.io/v1beta1",
			"command":    "aws",
			"args":       []any{"eks", "get-token", "--cluster-name", name, "--output", "json"},
		}}}},
	}
	kcJSON, _ := json.Marshal(kubeconfig)

	parent := ""
	if args.RegisterRPC != nil {
		parent = args.RegisterRPC.GetParent()
	}
	owner := m.urn(parent, args.TypeToken, args.Name)
	out := in.Copy()
	out["eksCluster"] = m.reference(owner, "aws:eks/cluster:Cluster", args.Name+"-eksCluster", cluster)
	out["core"] = resource.NewProperty(resource.PropertyMap{
		"cluster":          m.reference(owner, "aws:eks/cluster:Cluster", args.Name+"-eksCluster", cluster),
		"oidcProvider":     m.reference(owner, "aws:iam/openIdConnectProvider:OpenIdConnectProvider", args.Name+"-oidcProvider", oidc),
		"endpoint":         resource.NewProperty(endpoint),
		"vpcId":            valueOr(in, "vpcId"),
		"subnetIds":        valueOr(in, "subnetIds"),
		"tags":             valueOr(in, "tags"),
		"kubeconfig":       resource.NewProperty(string(kcJSON)),
		"nodeGroupOptions": resource.NewProperty(resource.PropertyMap{}),
	})
	out["kubeconfig"] = resource.NewProperty(string(kcJSON))
	out["kubeconfigJson"] = resource.MakeSecret(resource.NewProperty(string(kcJSON)))
	return name, out
}

func valueOr(in resource.PropertyMap, key resource.PropertyKey) resource.PropertyValue {
	if v, ok := in[key]; ok {
		return v
	}
	return resource.NewNullProperty()
}
