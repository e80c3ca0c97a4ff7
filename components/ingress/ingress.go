// Package ingress installs the AWS Load Balancer Controller, which turns the
// apps' Ingresses into Application Load Balancers, and builds the ALB
// annotations the apps' ingresses carry.
package ingress

import (
	_ "embed"
	"fmt"
	"strings"

	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/charts"
	"github.com/dataplatform/dataplatform/components/identity"
	"github.com/dataplatform/dataplatform/internal/iampolicy"
	"github.com/dataplatform/dataplatform/internal/structmap"
)

// TypeToken is the Pulumi type of the LoadBalancerController component.
const TypeToken = "dataplatform:ingress:LoadBalancerController"

// Chart location, and where the controller runs as whom.
const (
	Namespace          = "kube-system"
	ServiceAccountName = "aws-load-balancer-controller"
	// ClassName is the IngressClass the controller creates and the apps use.
	ClassName = "alb"
)

// iamPolicy is the controller's IAM policy as the project publishes it
// (kubernetes-sigs/aws-load-balancer-controller docs/install/iam_policy.json,
// identical at v2.17.1 and v3.5.0), kept as data and parsed into a typed
// document.
//
//go:embed iam_policy.json
var iamPolicy []byte

// Policy returns the controller's IAM policy document.
func Policy() (iampolicy.Document, error) { return iampolicy.Parse(iamPolicy) }

// ControllerArgs are the inputs of NewLoadBalancerController. Kubernetes
// resources use the provider given to the component.
type ControllerArgs struct {
	// Config pins the chart and sets the load balancers' scheme; see stackconfig.Ingress.
	Config Config
	// ChartDir is the folder of the vendored chart archives, relative to
	// the Pulumi project (default "charts", see package charts).
	ChartDir string
	// ClusterName, Region and VpcID are given explicitly, so the controller
	// needs no instance metadata (nodes allow one IMDS hop only). Required.
	ClusterName, Region string
	// AccountID scopes the controller's permissions. Required.
	AccountID string
	VpcID     pulumi.StringInput
	// OIDCProviderARN and OIDCIssuer are the cluster's IRSA provider. Required.
	OIDCProviderARN, OIDCIssuer pulumi.StringInput
	// NodeSelector and Tolerations place the controller (on the core nodes).
	NodeSelector map[string]string
	Tolerations  []map[string]string
	// WaitFor are resources the release waits for.
	WaitFor []pulumi.Resource
	Tags    map[string]string
}

// LoadBalancerController is the installed controller.
type LoadBalancerController struct {
	pulumi.ResourceState

	// Release is the controller's Helm release; ingresses must wait for it.
	Release *helmv3.Release
}

// NewLoadBalancerController installs the controller with its IRSA role.
func NewLoadBalancerController(ctx *pulumi.Context, name string, args *ControllerArgs, opts ...pulumi.ResourceOption) (*LoadBalancerController, error) {
	if args == nil {
		args = &ControllerArgs{}
	}
	cfg := args.Config.WithDefaults()
	problems := cfg.Validate()
	if args.ClusterName == "" || args.Region == "" || args.AccountID == "" || args.VpcID == nil {
		problems.Addf("clusterName", "clusterName, region, accountId and vpcId are required")
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}
	doc, err := ScopedPolicy(args.Region, args.AccountID, args.VpcID)
	if err != nil {
		return nil, fmt.Errorf("the embedded load balancer controller policy: %w", err)
	}
	c := &LoadBalancerController{}
	if err := ctx.RegisterComponentResource(TypeToken, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	role, err := identity.NewIrsaRole(ctx, name+"-role", &identity.IrsaRoleArgs{
		OIDCProviderARN: args.OIDCProviderARN,
		OIDCIssuer:      args.OIDCIssuer,
		ServiceAccounts: []identity.ServiceAccount{{Namespace: Namespace, Name: ServiceAccountName}},
		Policies:        []identity.Policy{{Name: "controller", Document: doc}},
		Description:     "AWS Load Balancer Controller of EKS cluster " + args.ClusterName,
		Tags:            args.Tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	release, err := helmv3.NewRelease(ctx, name, &helmv3.ReleaseArgs{
		Name:      pulumi.String("aws-load-balancer-controller"),
		Chart:     pulumi.String(charts.Path(args.ChartDir, charts.AWSLoadBalancerController, cfg.ChartVersion)),
		Version:   pulumi.String(cfg.ChartVersion),
		Namespace: pulumi.String(Namespace),
		Atomic:    pulumi.Bool(true),
		Values: structmap.Map(controllerValues{
			ClusterName:  args.ClusterName,
			Region:       args.Region,
			VpcID:        args.VpcID,
			ReplicaCount: cfg.Replicas,
			ServiceAccount: serviceAccountValues{
				Create:      true,
				Name:        ServiceAccountName,
				Annotations: map[string]pulumi.StringInput{identity.RoleARNAnnotation: role.RoleARN},
			},
			NodeSelector: args.NodeSelector,
			Tolerations:  args.Tolerations,
			IngressClass: ClassName,
			Resources:    map[string]map[string]string{"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
			// Every load balancer the controller creates carries the platform's tags.
			DefaultTags: args.Tags,
		}),
	}, parent, pulumi.DependsOn(args.WaitFor))
	if err != nil {
		return nil, err
	}
	c.Release = release
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"roleArn": role.RoleARN}); err != nil {
		return nil, err
	}
	return c, nil
}

type controllerValues struct {
	ClusterName    string               `json:"clusterName"`
	Region         string               `json:"region"`
	VpcID          pulumi.StringInput   `json:"vpcId"`
	ReplicaCount   int                  `json:"replicaCount"`
	ServiceAccount serviceAccountValues `json:"serviceAccount"`
	NodeSelector   map[string]string    `json:"nodeSelector,omitempty"`
	Tolerations    []map[string]string  `json:"tolerations,omitempty"`
	IngressClass   string               `json:"ingressClass"`
	// Resources size the controller (the chart sets none): a Go
	// controller watching Ingresses and Services, about 100 MiB.
	Resources   map[string]map[string]string `json:"resources"`
	DefaultTags map[string]string            `json:"defaultTags,omitempty"`
	// EnableServiceMutatorWebhook is the chart's webhook that makes the
	// controller the owner of every new Service of type LoadBalancer. It
	// intercepts the creation of every Service in the cluster and fails
	// closed, so each chart installed beside the controller would have to
	// wait for it; the platform has no such Service (the apps use
	// Ingresses), so it is off.
	EnableServiceMutatorWebhook bool `json:"enableServiceMutatorWebhook"`
}

type serviceAccountValues struct {
	Create      bool                          `json:"create"`
	Name        string                        `json:"name"`
	Annotations map[string]pulumi.StringInput `json:"annotations,omitempty"`
}

// scopeByService are the ARN patterns that replace an unconditioned "*" for
// the write actions of each service in the upstream policy: everything the
// controller manages is in the cluster's account and region.
var scopeByService = map[string][]string{
	"elasticloadbalancing": {"arn:aws:elasticloadbalancing:%[1]s:%[2]s:*"},
	"ec2":                  {"arn:aws:ec2:%[1]s:%[2]s:security-group/*"},
	"waf-regional":         {"arn:aws:waf-regional:%[1]s:%[2]s:*"},
	"wafv2":                {"arn:aws:wafv2:%[1]s:%[2]s:*"},
	"cognito-idp":          {"arn:aws:cognito-idp:%[1]s:%[2]s:userpool/*"},
	"acm":                  {"arn:aws:acm:%[1]s:%[2]s:certificate/*"},
}

// ScopedPolicy is the upstream policy with every statement that grants write
// actions on an unconditioned "*" narrowed to the account and region (and,
// for creating security groups, to the cluster's VPC). Read-only actions
// (Describe, Get, List) and services without resource-level permissions
// (Shield) keep "*".
func ScopedPolicy(region, account string, vpcID pulumi.StringInput) (iampolicy.Document, error) {
	doc, err := Policy()
	if err != nil {
		return doc, err
	}
	var out iampolicy.Document
	for i, s := range doc.Statements {
		if len(s.Conditions) > 0 || len(s.Resources) != 1 || !isStar(s.Resources[0]) {
			out.Statements = append(out.Statements, s)
			continue
		}
		var unscoped []string
		scoped := map[string][]string{}
		var services []string
		for _, a := range s.Actions {
			service, verb, _ := strings.Cut(a, ":")
			_, scopable := scopeByService[service]
			if !scopable || strings.HasPrefix(verb, "Describe") || strings.HasPrefix(verb, "Get") || strings.HasPrefix(verb, "List") {
				unscoped = append(unscoped, a)
				continue
			}
			if scoped[service] == nil {
				services = append(services, service)
			}
			scoped[service] = append(scoped[service], a)
		}
		sid := s.Sid
		if sid == "" {
			sid = fmt.Sprintf("Upstream%d", i)
		}
		if len(unscoped) > 0 {
			out.Statements = append(out.Statements, iampolicy.Statement{Sid: sid, Effect: s.Effect, Actions: unscoped, Resources: iampolicy.Strings("*")})
		}
		for _, service := range services {
			var resources []pulumi.StringInput
			for _, pattern := range scopeByService[service] {
				resources = append(resources, pulumi.String(fmt.Sprintf(pattern, region, account)))
			}
			if service == "ec2" && containsAction(scoped[service], "ec2:CreateSecurityGroup") {
				resources = append(resources, pulumi.Sprintf("arn:aws:ec2:%s:%s:vpc/%s", region, account, vpcID))
			}
			out.Statements = append(out.Statements, iampolicy.Statement{
				Sid: sid + pascal(service), Effect: s.Effect, Actions: scoped[service], Resources: resources,
			})
		}
	}
	return out, nil
}

func isStar(in pulumi.StringInput) bool {
	s, ok := in.(pulumi.String)
	return ok && string(s) == "*"
}

func containsAction(actions []string, a string) bool {
	for _, x := range actions {
		if x == a {
			return true
		}
	}
	return false
}

// pascal turns "waf-regional" into "WafRegional", for statement IDs.
func pascal(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(s, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
