package tests

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/internal/mocks"
	"github.com/dataplatform/dataplatform/plan"
)

func TestComputeLayerIsPlanned(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			n := stackPlan(t, stack).Count()
			assert.Equal(t, 1, n["eks:index:Cluster"])
			assert.Equal(t, 1, n["aws:eks/nodeGroup:NodeGroup"])
			assert.GreaterOrEqual(t, n["aws:eks/addon:Addon"], 4)
			assert.Equal(t, 1, n["aws:sqs/queue:Queue"])
			assert.GreaterOrEqual(t, n["aws:cloudwatch/eventRule:EventRule"], 4)
			assert.Equal(t, n["aws:cloudwatch/eventRule:EventRule"], n["aws:cloudwatch/eventTarget:EventTarget"])
			assert.Equal(t, 1, n["kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"])
			assert.GreaterOrEqual(t, n["kubernetes:karpenter.sh/v1:NodePool"], 1)
			assert.Equal(t, 3, n["pulumi:providers:kubernetes"], "ours, and two that pulumi-eks creates and leaves unused")
			release := findByName(t, stackPlan(t, stack), "kubernetes:helm.sh/v3:Release", "karpenter")
			assert.Equal(t, "./charts/karpenter-1.14.1.tgz", release.Inputs["chart"], "the vendored archive")
		})
	}
}

func TestAddonsAreThePinnedOnes(t *testing.T) {
	p := stackPlan(t, "prod")
	got := map[string]string{}
	for _, a := range p.Find("aws:eks/addon:Addon") {
		got[str(a.Inputs, "addonName")] = str(a.Inputs, "addonVersion")
	}
	assert.Equal(t, map[string]string{
		"vpc-cni": "v1.21.1-eksbuild.7", "coredns": "v1.13.2-eksbuild.4",
		"kube-proxy": "v1.35.3-eksbuild.2", "aws-ebs-csi-driver": "v1.58.0-eksbuild.1",
		"metrics-server": "v0.9.0-eksbuild.6", "amazon-cloudwatch-observability": "v6.4.0-eksbuild.1",
	}, got)
	ebs := findByName(t, p, "aws:eks/addon:Addon", "cluster-aws-ebs-csi-driver")
	assert.True(t, strings.HasPrefix(str(ebs.Inputs, "serviceAccountRoleArn"), "arn:aws:iam::"), "the EBS CSI driver runs with its own IRSA role")
}

func TestClusterIsPrivateEncryptedAndLogged(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		args := p.Find("eks:index:Cluster")[0]
		assert.Equal(t, true, args.Inputs["useDefaultVpcCni"], "pulumi-eks must not run kubectl for the CNI")
		assert.Equal(t, true, args.Inputs["skipDefaultNodeGroup"], "pulumi-eks node groups are AL2-only")
		// What AWS receives: the cluster pulumi-eks creates.
		c := p.Find("aws:eks/cluster:Cluster")[0]
		assert.Equal(t, args.URN, c.Parent)
		assert.Equal(t, true, at(c.Inputs, "vpcConfig", "endpointPrivateAccess"))
		assert.Equal(t, "API", at(c.Inputs, "accessConfig", "authenticationMode"), "access entries only, no aws-auth ConfigMap")
		assert.Len(t, p.Find("aws:iam/openIdConnectProvider:OpenIdConnectProvider"), 1)
		assert.ElementsMatch(t, []any{"api", "audit", "authenticator", "controllerManager", "scheduler"}, c.Inputs["enabledClusterLogTypes"])
		assert.Equal(t, []any{"secrets"}, at(c.Inputs, "encryptionConfig", "resources"))
		keyARN := str(c.Inputs, "encryptionConfig", "provider", "keyArn")
		key := findByName(t, p, "aws:kms/key:Key", "cluster-secrets")
		assert.Equal(t, true, key.Inputs["enableKeyRotation"])
		assert.Contains(t, keyARN, ":key/", "secrets are encrypted with the cluster's own key")
		assert.Contains(t, c.Dependencies, key.URN)
		if at(c.Inputs, "vpcConfig", "endpointPublicAccess") == true {
			for _, cidr := range at(c.Inputs, "vpcConfig", "publicAccessCidrs").([]any) {
				assert.NotEqual(t, "0.0.0.0/0", cidr)
			}
			assert.NotEmpty(t, at(c.Inputs, "vpcConfig", "publicAccessCidrs"))
		}
		logs := findByName(t, p, "aws:cloudwatch/logGroup:LogGroup", "cluster-control-plane")
		assert.Equal(t, "/aws/eks/"+p.Outputs["name"].(string)+"/cluster", logs.Inputs["name"])
		// The Go SDK registers the component (and pulumi-eks its children)
		// only once the log group exists.
		assert.Contains(t, args.Dependencies, logs.URN, "the log group exists before EKS writes to it")
	}
	// prod's endpoint is public only to the deployer's egress (a /28).
	vpc := at(stackPlan(t, "prod").Find("aws:eks/cluster:Cluster")[0].Inputs, "vpcConfig").(map[string]any)
	assert.Equal(t, true, vpc["endpointPublicAccess"])
	assert.Equal(t, []any{"198.51.100.0/28"}, vpc["publicAccessCidrs"])
}

func TestCreatorAdminFollowsConfigOnTheRealCluster(t *testing.T) {
	// The transform reaches the aws:eks/cluster:Cluster that pulumi-eks
	// creates (which hard-codes true) only if the mocks run it on the
	// component's children, as the engine does.
	creatorAdmin := func(p *plan.Plan) any {
		return at(p.Find("aws:eks/cluster:Cluster")[0].Inputs, "accessConfig", "bootstrapClusterCreatorAdminPermissions")
	}
	assert.Equal(t, false, creatorAdmin(stackPlan(t, "dev")))
	assert.Equal(t, false, creatorAdmin(stackPlan(t, "prod")))

	opts := stackOptions(t, "dev")
	setIn("dataplatform:cluster", "bootstrapCreatorAdmin", true)(t, opts)
	setIn("dataplatform:cluster", "adminRoleArns", []string{"arn:aws:iam::123456789012:role/platform-admin"})(t, opts)
	p, err := plan.Run(opts)
	require.NoError(t, err)
	assert.Equal(t, true, creatorAdmin(p))

	// EKS then creates an access entry for whoever creates the cluster (the
	// deploy's role); one of our own for the same role is refused.
	rs := recordsOf(t, p)
	for i := range rs {
		if rs[i].Type == "aws:eks/accessEntry:AccessEntry" && rs[i].Name == "cluster-admin-platform-admin" {
			rs[i].Inputs["principalArn"] = resource.NewProperty("arn:aws:iam::123456789012:role/pulumi-deploy-dev")
		}
	}
	vs := mocks.Check(rs, mocks.New("dataplatform", "dev", "us-east-1").Env())
	require.Len(t, vs, 1)
	assert.Contains(t, vs[0].Message, "arn:aws:iam::123456789012:role/pulumi-deploy-dev already has an access entry")
	assert.Contains(t, vs[0].Message, "bootstrapClusterCreatorAdminPermissions is true")
}

// trustStatements returns the statements of every role's trust policy.
func roleTrusts(t *testing.T, p *plan.Plan) map[string][]map[string]any {
	out := map[string][]map[string]any{}
	for _, r := range p.Find("aws:iam/role:Role") {
		doc, ok := r.Inputs["assumeRolePolicy"].(map[string]any)
		require.True(t, ok, "role %s has no readable trust policy", r.Name)
		for _, s := range doc["Statement"].([]any) {
			// CI's preview role trusts GitHub, not the cluster's issuer
			// (TestThePreviewRoleTrustsTheWorkflowsProtectedEnvironmentOnly).
			if strings.Contains(fmt.Sprint(at(s.(map[string]any), "Principal", "Federated")), "token.actions.githubusercontent.com") {
				continue
			}
			out[r.Name] = append(out[r.Name], s.(map[string]any))
		}
	}
	return out
}

func TestEveryIrsaTrustHasExactSubAndAud(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		irsa := 0
		for role, stmts := range roleTrusts(t, p) {
			for _, s := range stmts {
				principal := s["Principal"].(map[string]any)
				if _, ok := principal["Federated"]; !ok {
					continue
				}
				irsa++
				assert.Equal(t, []any{"sts:AssumeRoleWithWebIdentity"}, s["Action"], role)
				cond := s["Condition"].(map[string]any)
				assert.Len(t, cond, 1, "%s: only StringEquals, no StringLike", role)
				eq := cond["StringEquals"].(map[string]any)
				var sub, aud []any
				for k, v := range eq {
					switch {
					case strings.HasSuffix(k, ":sub"):
						sub = v.([]any)
					case strings.HasSuffix(k, ":aud"):
						aud = v.([]any)
					}
					assert.True(t, strings.HasPrefix(k, "oidc.eks."), "%s: condition key %s is not the cluster's issuer", role, k)
				}
				assert.Equal(t, []any{"sts.amazonaws.com"}, aud, role)
				require.NotEmpty(t, sub, role)
				for _, s := range sub {
					parts := strings.Split(s.(string), ":")
					require.Len(t, parts, 4, "%s: subject %v", role, s)
					assert.Equal(t, "system:serviceaccount", parts[0]+":"+parts[1])
					assert.NotContains(t, s, "*", role)
				}
			}
		}
		assert.GreaterOrEqual(t, irsa, 2, "EBS CSI and Karpenter at least")
	}
}

// policyStatements returns every statement of every identity policy in the plan.
func policyStatements(t *testing.T, p *plan.Plan) map[string][]map[string]any {
	out := map[string][]map[string]any{}
	for _, typ := range []string{"aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy"} {
		for _, r := range p.Find(typ) {
			doc, ok := r.Inputs["policy"].(map[string]any)
			require.True(t, ok, "%s has no readable policy", r.Name)
			for _, s := range doc["Statement"].([]any) {
				out[r.Name] = append(out[r.Name], s.(map[string]any))
			}
		}
	}
	return out
}
func TestNoStatementPassesAnyRole(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		passRole := 0
		for name, stmts := range policyStatements(t, p) {
			for _, s := range stmts {
				for _, a := range plan.Strings(s["Action"]) {
					if a == "iam:PassRole" || a == "iam:*" || a == "*" {
						passRole++
						for _, r := range plan.Strings(s["Resource"]) {
							assert.NotContains(t, r, "*", "%s passes %s", name, r)
						}
					}
				}
			}
		}
		assert.Equal(t, 1, passRole, "only Karpenter passes a role, the node role")
	}
}

func TestKarpenterControllerPoliciesAreScopedAndFitIAMLimits(t *testing.T) {
	p := stackPlan(t, "prod")
	// Actions that take no resource-level permissions, the only ones allowed on "*".
	unscoped := map[string]bool{"pricing:GetProducts": true, "iam:ListInstanceProfiles": true, "arc-zonal-shift:GetManagedResource": true}
	for _, r := range p.Find("aws:iam/policy:Policy") {
		if !strings.HasPrefix(r.Name, "karpenter-controller-") {
			continue
		}
		b, err := json.Marshal(r.Inputs["policy"])
		require.NoError(t, err)
		assert.Less(t, len(b), 6144, "%s exceeds IAM's managed policy size", r.Name)
		for _, s := range r.Inputs["policy"].(map[string]any)["Statement"].([]any) {
			st := s.(map[string]any)
			for _, res := range plan.Strings(st["Resource"]) {
				if res != "*" {
					continue
				}
				for _, a := range plan.Strings(st["Action"]) {
					if !strings.HasPrefix(a, "ec2:Describe") {
						assert.True(t, unscoped[a], "%s: %s on * where AWS allows narrower", st["Sid"], a)
					}
				}
				if strings.HasPrefix(plan.Strings(st["Action"])[0], "ec2:Describe") {
					assert.Contains(t, st["Condition"], "StringEquals", "describe calls are bound to the region")
				}
			}
		}
	}
	queue := p.Find("aws:sqs/queue:Queue")[0]
	assert.Equal(t, true, queue.Inputs["sqsManagedSseEnabled"])
	qp := p.Find("aws:sqs/queuePolicy:QueuePolicy")[0].Inputs["policy"].(map[string]any)
	assert.Contains(t, mustJSON(t, qp), `"aws:SecureTransport":["false"]`)
}

func TestNodesRequireIMDSv2WithHopLimitOne(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		lts := p.Find("aws:ec2/launchTemplate:LaunchTemplate")
		require.NotEmpty(t, lts)
		for _, lt := range lts {
			md := lt.Inputs["metadataOptions"].(map[string]any)
			assert.Equal(t, "required", md["httpTokens"], lt.Name)
			assert.Equal(t, 1.0, md["httpPutResponseHopLimit"], lt.Name)
			ebs := lt.Inputs["blockDeviceMappings"].([]any)[0].(map[string]any)["ebs"].(map[string]any)
			assert.Equal(t, "true", ebs["encrypted"], lt.Name)
			assert.Equal(t, "gp3", ebs["volumeType"], lt.Name)
		}
		for _, nc := range p.Find("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass") {
			spec := nc.Inputs["spec"].(map[string]any)
			md := spec["metadataOptions"].(map[string]any)
			assert.Equal(t, "required", md["httpTokens"])
			assert.Equal(t, 1.0, md["httpPutResponseHopLimit"])
			ebs := spec["blockDeviceMappings"].([]any)[0].(map[string]any)["ebs"].(map[string]any)
			assert.Equal(t, true, ebs["encrypted"])
			alias := map[string]string{"dev": "al2023@latest", "prod": "al2023@v20260818"}[stack]
			assert.Equal(t, []any{map[string]any{"alias": alias}}, spec["amiSelectorTerms"], "prod pins its node image")
		}
		ng := p.Find("aws:eks/nodeGroup:NodeGroup")[0]
		assert.True(t, strings.HasPrefix(str(ng.Inputs, "amiType"), "AL2023_"), "core nodes run AL2023")
		assert.Contains(t, ng.Dependencies, findByName(t, p, "aws:ec2/launchTemplate:LaunchTemplate", "cluster-core").URN)
	}
}

func TestEveryKubernetesResourceUsesTheClustersProvider(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		var providers []plan.Resource
		for _, r := range p.Find("pulumi:providers:kubernetes") {
			if r.Parent == "" { // pulumi-eks's own two sit under its component and serve nothing
				providers = append(providers, r)
			}
		}
		require.Len(t, providers, 1)
		assert.Equal(t, "[secret]", providers[0].Inputs["kubeconfig"], "the kubeconfig comes from the cluster and stays secret")
		assert.Contains(t, providers[0].Dependencies, p.Find("eks:index:Cluster")[0].URN)
		for _, e := range p.Find("aws:eks/accessEntry:AccessEntry") {
			if strings.Contains(e.Name, "-admin-") {
				assert.Contains(t, providers[0].Dependencies, e.URN, "the deployer's access entry exists before any Kubernetes call")
			}
		}
		count := 0
		for _, r := range p.Resources {
			if strings.HasPrefix(r.Type, "kubernetes:") {
				count++
				assert.Equal(t, providers[0].URN, r.Provider, "%s %s", r.Type, r.Name)
			}
		}
		assert.Greater(t, count, 3)
	}
}

func TestKarpenterOrdering(t *testing.T) {
	p := stackPlan(t, "prod")
	release := findByName(t, p, "kubernetes:helm.sh/v3:Release", "karpenter")
	for _, dep := range []plan.Resource{
		p.Find("aws:eks/nodeGroup:NodeGroup")[0],
		findByName(t, p, "aws:eks/accessEntry:AccessEntry", "karpenter-node"),
		p.Find("eks:index:Cluster")[0],
		findByName(t, p, "kubernetes:helm.sh/v3:Release", "karpenter-crd"),
	} {
		assert.Contains(t, release.Dependencies, dep.URN, "the release waits for %s", dep.Name)
	}
	nodeClass := p.Find("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass")[0]
	assert.Contains(t, nodeClass.Dependencies, release.URN)
	for _, np := range p.Find("kubernetes:karpenter.sh/v1:NodePool") {
		// Pulumi deletes dependents first: pools go before the node class and
		// the controller, so Karpenter can still remove its nodes.
		assert.Contains(t, np.Dependencies, release.URN, np.Name)
		assert.Contains(t, np.Dependencies, nodeClass.URN, np.Name)
	}
	values := release.Inputs["values"].(map[string]any)
	assert.Equal(t, "karpenter", str(values, "serviceAccount", "name"))
	assert.Equal(t, p.Outputs["karpenterQueueName"], str(values, "settings", "interruptionQueue"))
	assert.Equal(t, p.Outputs["clusterName"], str(values, "settings", "clusterName"))
	assert.Equal(t, p.Outputs["clusterEndpoint"], str(values, "settings", "clusterEndpoint"))
	assert.Equal(t, 2.0, values["replicas"])
	assert.Equal(t, 1.0, findByName(t, stackPlan(t, "dev"), "kubernetes:helm.sh/v3:Release", "karpenter").Inputs["values"].(map[string]any)["replicas"])
	// The controller's role trusts exactly its service account.
	trust := roleTrusts(t, p)["karpenter-controller"][0]["Condition"].(map[string]any)["StringEquals"].(map[string]any)
	for k, v := range trust {
		if strings.HasSuffix(k, ":sub") {
			assert.Equal(t, []any{"system:serviceaccount:kube-system:karpenter"}, v)
		}
	}
}

func TestNodePoolsDifferBetweenDevAndProd(t *testing.T) {
	capacity := func(p *plan.Plan) map[string][]any {
		out := map[string][]any{}
		for _, np := range p.Find("kubernetes:karpenter.sh/v1:NodePool") {
			reqs := np.Inputs["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["requirements"].([]any)
			for _, r := range reqs {
				if r.(map[string]any)["key"] == "karpenter.sh/capacity-type" {
					out[str(np.Inputs, "metadata", "name")] = r.(map[string]any)["values"].([]any)
				}
			}
		}
		return out
	}
	assert.Equal(t, map[string][]any{"default": {"spot", "on-demand"}}, capacity(stackPlan(t, "dev")), "dev is spot-first")
	assert.Equal(t, map[string][]any{"on-demand": {"on-demand"}, "spot": {"spot"}}, capacity(stackPlan(t, "prod")))
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
