package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/insights"
	"github.com/dataplatform/dataplatform/plan"
	"github.com/dataplatform/dataplatform/stacks"
)

// machine is a deploying machine with the given tool versions ("" for a
// tool that is not installed).
type machine map[string]string

func (m machine) Version(tool string) (string, error) {
	if v := m[tool]; v != "" {
		return v, nil
	}
	return "", fmt.Errorf("not found on PATH")
}

func TestMissingToolsFailTheDeployBeforeAnythingIsCreated(t *testing.T) {
	opts := stackOptions(t, "prod")
	opts.Tools = machine{"aws": "2.1.0"} // an old aws CLI, and no kubectl
	setIn("dataplatform:network", "natStrategy", "Double")(t, opts)
	p, err := plan.Run(opts)
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, "tools.aws: version 2.1.0 is older than 2.7.0")
	assert.Contains(t, msg, "tools.kubectl: not found on PATH: install kubectl 1.24.0 or newer")
	assert.Contains(t, msg, "https://kubernetes.io/docs/tasks/tools/#kubectl")
	assert.Contains(t, msg, "dataplatform:network.natStrategy", "config problems are reported with them")
	assert.Empty(t, p.Resources)

	opts = stackOptions(t, "prod")
	opts.Tools = machine{"aws": "2.17.3", "kubectl": "1.35.0"}
	_, err = plan.Run(opts)
	require.NoError(t, err)
}

func TestTheReadmeAndThePreviewWorkflowProvideEveryTool(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(projectDir, "README.md"))
	require.NoError(t, err)
	workflow, err := os.ReadFile(filepath.Join(projectDir, ".github", "workflows", "preview.yml"))
	require.NoError(t, err)
	gomod, err := os.ReadFile(filepath.Join(projectDir, "go.mod"))
	require.NoError(t, err)
	for _, tool := range stacks.Tools {
		assert.Regexp(t, `(?i)\| \[?`+tool.Name+`.*\| `+regexp.QuoteMeta(tool.Min)+` or later \|`, string(readme), "the README lists %s %s", tool.Name, tool.Min)
		assert.Regexp(t, `\n\s+`+tool.Name+` (--)?version`, string(workflow), "the preview workflow installs and runs %s", tool.Name)
	}
	// The plugins the README lists are the program's own versions.
	for plugin, module := range map[string]string{"aws": "pulumi-aws/sdk/v6", "eks": "pulumi-eks/sdk/v2", "kubernetes": "pulumi-kubernetes/sdk/v4", "random": "pulumi-random/sdk/v4"} {
		m := regexp.MustCompile(regexp.QuoteMeta(module) + ` v(\S+)`).FindStringSubmatch(string(gomod))
		require.NotNil(t, m, module)
		assert.Regexp(t, plugin+` (\*\*)?`+regexp.QuoteMeta(m[1]), string(readme), "the README lists plugin %s %s", plugin, m[1])
	}
}

func TestTheDeployRunsInItsOwnAccountWithItsOwnValues(t *testing.T) {
	// The stack files are written for the example account; planned for
	// another, every value that only makes sense there is named, before
	// anything is created.
	opts := stackOptions(t, "prod")
	opts.Account = "210987654321"
	p, err := plan.Run(opts)
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{
		`dataplatform:cluster.adminRoleArns[0]: "arn:aws:iam::123456789012:role/platform-admin" is in account 123456789012, but the deploy runs in 210987654321`,
		`dataplatform:apps.ingress.certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/`,
		`dataplatform:apps.airflow.gitSync.credentialsSecretArn:`,
		`dataplatform:apps.airbyte.host: "airbyte.data.example.com" is the committed example's value`,
		`dataplatform:apps.airflow.host: "airflow.data.example.com"`,
		`dataplatform:cluster.endpoint.publicAccessCidrs[0]: "198.51.100.0/28" is the committed example's value: set this stack's own (a documentation block`,
		`dataplatform:observability.alarmEmails[0]: "data-platform-oncall@example.com"`,
		`dataplatform:apps.airflow.gitSync.repo: "https://github.com/example-org/dags.git"`,
	} {
		assert.Contains(t, msg, want)
	}
	assert.Empty(t, p.Resources)

	// A deploy role that is not an admin could create the cluster but not
	// its Kubernetes objects.
	opts = stackOptions(t, "prod")
	opts.CallerRole = "ci-deployer"
	_, err = plan.Run(opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "dataplatform:cluster.adminRoleArns: the deploy runs as role ci-deployer, which is not listed")
}

func TestCallerRoleNames(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:sts::123456789012:assumed-role/pulumi-deploy-prod/gha-42": "pulumi-deploy-prod",
		"arn:aws:iam::123456789012:role/ops/pulumi-deploy":                 "pulumi-deploy",
		"arn:aws:iam::123456789012:user/alice":                             "",
	} {
		assert.Equal(t, want, stacks.Caller{ARN: arn}.RoleName(), arn)
	}
}

func TestCriticalPathDidNotGrow(t *testing.T) {
	// 29:40 before pulumi-eks's children and the rendered charts were
	// planned; modelled faithfully, it must not be longer.
	cp := insights.Critical(stackPlan(t, "prod"))
	assert.LessOrEqual(t, cp.TotalSeconds, 29*60+40.0)
	// 27:56 since the Karpenter CRDs no longer wait for nodes.
	assert.LessOrEqual(t, cp.TotalSeconds, 27*60+56.0)
}

// addDependency makes the release named from wait for the resource named to.
func addDependency(t *testing.T, p *plan.Plan, from, typ, to string) {
	t.Helper()
	dep := findByName(t, p, typ, to)
	for i := range p.Resources {
		if p.Resources[i].Type == plan.ReleaseType && p.Resources[i].Name == from {
			p.Resources[i].Dependencies = append(p.Resources[i].Dependencies, dep.URN)
			return
		}
	}
	t.Fatalf("no release %s", from)
}

func TestReleasesWaitForNoMoreThanTheyNeed(t *testing.T) {
	vs := breakObjects(t, "prod", func(p *plan.Plan) {
		// Airflow needs nothing of Airbyte's...
		addDependency(t, p, "airflow", plan.ReleaseType, "airbyte")
		// ...the CRD chart has no pods...
		addDependency(t, p, "karpenter-crd", "aws:eks/nodeGroup:NodeGroup", "cluster-core")
		// ...no pod of Airbyte reads Airflow's metadata Secret...
		addDependency(t, p, "airbyte", "kubernetes:external-secrets.io/v1:ExternalSecret", "airflow-metadata")
		// ...and Karpenter's controller, without the RBAC rules over its
		// own kinds, would not need them.
		objs := p.AllObjects()[release(t, p, "karpenter").URN]
		for i := range objs {
			if objs[i].Kind == "ClusterRole" || objs[i].Kind == "Role" {
				objs[i].Body["rules"] = []any{}
			}
		}
	})
	got := strings.Join(violations(vs, plan.RuleWaits), "\n")
	assert.Contains(t, got, `Release "airflow": dependsOn airbyte: waits for kubernetes:helm.sh/v3:Release airbyte, but it serves none of its kinds and none of its webhooks intercepts its objects`)
	assert.Contains(t, got, `Release "karpenter-crd": dependsOn cluster-core: waits for aws:eks/nodeGroup:NodeGroup cluster-core, but none of its pods fits node group cluster-core`)
	assert.Contains(t, got, `Release "airbyte": dependsOn airflow-metadata: waits for kubernetes:external-secrets.io/v1:ExternalSecret airflow-metadata, but none of its pods reads Secret airflow/airflow-metadata`)
	assert.Contains(t, got, `Release "karpenter": dependsOn karpenter-crd`)
	assert.Len(t, violations(vs, plan.RuleWaits), 4)
}

// stepOf returns the destroy step of the resource named name.
func stepOf(t *testing.T, p *plan.Plan, steps map[string]int, typ, name string) int {
	t.Helper()
	r := findByName(t, p, typ, name)
	return steps[r.URN]
}

func TestDestroyRemovesWhatControllersMadeBeforeTheControllers(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		steps := insights.DeleteSteps(p)
		cluster := steps[p.Find("aws:eks/cluster:Cluster")[0].URN]
		vpc := steps[p.Find("aws:ec2/vpc:Vpc")[0].URN]
		// The subnets that hold nodes (private) and load balancers (public
		// and private); the database subnets go after the databases.
		nodeSubnets, lbSubnets := cluster+1000, cluster+1000
		for _, s := range p.Find("aws:ec2/subnet:Subnet") {
			if strings.Contains(s.Name, "private") {
				nodeSubnets = min(nodeSubnets, steps[s.URN])
			}
			if !strings.Contains(s.Name, "database") {
				lbSubnets = min(lbSubnets, steps[s.URN])
			}
		}
		lbc := stepOf(t, p, steps, plan.ReleaseType, "load-balancer-controller")
		karpenter := stepOf(t, p, steps, plan.ReleaseType, "karpenter")
		ebs := stepOf(t, p, steps, "aws:eks/addon:Addon", "cluster-aws-ebs-csi-driver")

		// Load balancers: each Ingress of class alb goes (and Pulumi waits
		// for the controller's finalizer) before the controller.
		ingresses := 0
		for _, o := range p.ClusterObjects() {
			if o.Kind == "Ingress" {
				ingresses++
				assert.Less(t, steps[o.Owner], lbc, "%s: %s goes before the load balancer controller", stack, o.Key())
			}
		}
		assert.Equal(t, 2, ingresses, "%s: Airbyte's and Airflow's", stack)
		// Karpenter's nodes: every NodePool (and the node class) goes while
		// Karpenter runs, which terminates their instances.
		for _, np := range p.Find("kubernetes:karpenter.sh/v1:NodePool") {
			assert.Less(t, steps[np.URN], karpenter, "%s: %s", stack, np.Name)
		}
		assert.Less(t, stepOf(t, p, steps, "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass", "karpenter-default"), karpenter)
		// Volumes: nothing the charts render keeps a claim (checked by the
		// plan), and the default StorageClass goes before the EBS driver.
		assert.Less(t, stepOf(t, p, steps, "kubernetes:storage.k8s.io/v1:StorageClass", "default-storage-class"), ebs)
		// And the controllers go before the cluster, its subnets and the VPC.
		for name, s := range map[string]int{"load balancer controller": lbc, "karpenter": karpenter, "EBS CSI driver": ebs} {
			assert.Less(t, s, cluster, "%s: %s before the EKS cluster", stack, name)
		}
		assert.Less(t, cluster, nodeSubnets, "%s: the nodes' subnets outlive the cluster", stack)
		assert.Less(t, lbc, lbSubnets, "%s: the load balancers' subnets outlive the controller", stack)
		assert.Less(t, nodeSubnets, vpc, stack)
		assert.Less(t, lbSubnets, vpc, stack)
	}
}

func TestCleanupIsCheckedOnEveryPlan(t *testing.T) {
	// An Ingress whose release does not wait for the controller...
	vs := breakObjects(t, "prod", func(p *plan.Plan) {
		lbc := release(t, p, "load-balancer-controller").URN
		for i := range p.Resources {
			if p.Resources[i].Type == plan.ReleaseType && p.Resources[i].Name == "airbyte" {
				var deps []string
				for _, d := range p.Resources[i].Dependencies {
					if d != lbc {
						deps = append(deps, d)
					}
				}
				p.Resources[i].Dependencies = deps
			}
		}
	})
	got := strings.Join(violations(vs, plan.RuleCleanup), "\n")
	assert.Contains(t, got, `"airbyte": Ingress airbyte/airbyte: makes a load balancer, but airbyte does not wait for load-balancer-controller`)

	// ...and a StatefulSet whose claims outlive the release.
	vs = breakObjects(t, "prod", func(p *plan.Plan) {
		d := objectNamed(t, p, "airflow", "Deployment", "airflow-scheduler")
		d.Kind = "StatefulSet"
		d.Body["spec"].(map[string]any)["volumeClaimTemplates"] = []any{map[string]any{"metadata": map[string]any{"name": "logs"}}}
	})
	got = strings.Join(violations(vs, plan.RuleCleanup), "\n")
	assert.Contains(t, got, "StatefulSet airflow/airflow-scheduler: has volumeClaimTemplates, and Helm does not delete their claims")
}

func TestEveryPodHasNodesWhenItsReleaseInstalls(t *testing.T) {
	vs := breakObjects(t, "prod", func(p *plan.Plan) {
		// Karpenter without the core nodes' toleration...
		d := objectNamed(t, p, "karpenter", "Deployment", "karpenter")
		d.Body["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["tolerations"] = []any{}
		// ...and Airbyte installed without waiting for a NodePool (nor for
		// its login job, which waits for one).
		for i := range p.Resources {
			if p.Resources[i].Type == plan.ReleaseType && p.Resources[i].Name == "airbyte" {
				var deps []string
				for _, dep := range p.Resources[i].Dependencies {
					if !strings.Contains(dep, "NodePool") && !strings.Contains(dep, "batch/v1:Job") {
						deps = append(deps, dep)
					}
				}
				p.Resources[i].Dependencies = deps
			}
		}
	})
	got := strings.Join(violations(vs, plan.RuleScheduling), "\n")
	assert.Contains(t, got, "pods of Deployment kube-system/karpenter: fit no node the plan provides (")
	assert.Contains(t, got, "node group cluster-core: taint CriticalAddonsOnly=true:NoSchedule): they would stay Pending")
	assert.Contains(t, got, "pods of Deployment airbyte/airbyte-server: are started before any node they fit exists: airbyte waits for none of NodePool on-demand")
}

// outliving returns the physical names of a plan that stay in AWS after
// `pulumi destroy`, with why.
func outliving(t *testing.T, p *plan.Plan) map[string]string {
	out := map[string]string{}
	for _, r := range p.Records() {
		get := func(k string) string {
			if v, ok := r.Outputs[resource.PropertyKey(k)]; ok && v.IsString() {
				return v.StringValue()
			}
			return ""
		}
		switch {
		case r.Type == "aws:rds/instance:Instance" && get("finalSnapshotIdentifier") != "" && !r.Inputs["skipFinalSnapshot"].BoolValue():
			out[get("finalSnapshotIdentifier")] = "the final snapshot of " + r.Name
		case r.Type == "aws:rds/snapshot:Snapshot" && r.RetainOnDelete:
			out[get("dbSnapshotIdentifier")] = "a snapshot before an upgrade, retained"
		case r.Type == "aws:secretsmanager/secret:Secret" && r.Inputs["recoveryWindowInDays"].NumberValue() > 0:
			out[get("name")] = "a secret kept for its recovery window"
		case r.Type == "aws:sqs/queue:Queue":
			out[get("name")] = "a queue name SQS refuses for 60 seconds after its deletion"
		}
	}
	return out
}

func TestARebuildAfterDestroyNamesNothingTheDestroyedStackLeft(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		first := outliving(t, stackPlan(t, stack))
		opts := stackOptions(t, stack)
		opts.Seed = "the next generation"
		rebuilt, err := plan.Run(opts)
		require.NoError(t, err)
		second := outliving(t, rebuilt)
		var names []string
		for name, why := range first {
			names = append(names, name+" ("+why+")")
			_, again := second[name]
			assert.False(t, again, "%s: %s is named again by the rebuild", stack, name)
		}
		sort.Strings(names)
		t.Logf("%s: names that outlive a destroy:\n  %s", stack, strings.Join(names, "\n  "))
		// dev: the two upgrade snapshots and the queue; prod also the final
		// snapshots and the secrets in their recovery window (Airflow's,
		// the four database logins, and Airflow's SSO client secret).
		assert.Len(t, first, map[string]int{"dev": 3, "prod": 11}[stack], stack)
	}
	// Every log group with a name fixed by AWS is deleted after what
	// writes to it, so no writer recreates it before the rebuild does.
	p := stackPlan(t, "prod")
	steps := insights.DeleteSteps(p)
	cluster := steps[p.Find("aws:eks/cluster:Cluster")[0].URN]
	assert.Greater(t, stepOf(t, p, steps, "aws:cloudwatch/logGroup:LogGroup", "cluster-control-plane"), cluster)
	for _, db := range []string{"airbyte-db", "airflow-db"} {
		assert.Greater(t, stepOf(t, p, steps, "aws:cloudwatch/logGroup:LogGroup", db+"-postgresql"), stepOf(t, p, steps, "aws:rds/instance:Instance", db))
	}
	agent := stepOf(t, p, steps, "aws:eks/addon:Addon", "monitoring-container-insights")
	for _, g := range []string{"application", "dataplane", "host", "performance"} {
		assert.Greater(t, stepOf(t, p, steps, "aws:cloudwatch/logGroup:LogGroup", "monitoring-"+g), agent, "Container Insights' %s group outlives the agent", g)
	}
}

func TestRDSMinorUpgradesAreNotUndone(t *testing.T) {
	// RDS moves an instance to the next minor version in its maintenance
	// window (autoMinorVersionUpgrade). The provider accepts any actual
	// version that starts with the configured one, so the configured
	// version is the major version alone.
	for _, stack := range []string{"dev", "prod"} {
		for _, db := range stackPlan(t, stack).Find("aws:rds/instance:Instance") {
			if db.Inputs["replicateSourceDb"] != nil {
				continue
			}
			assert.Equal(t, true, db.Inputs["autoMinorVersionUpgrade"], db.Name)
			assert.Regexp(t, `^\d+$`, db.Inputs["engineVersion"], "%s %s: a major version", stack, db.Name)
		}
	}
}

func TestAirbyteKnowsHowUsersReachIt(t *testing.T) {
	// prod signs users in at the load balancer (single sign-on): Airbyte's
	// own login, and its cookie, are off.
	for stack, want := range map[string]struct {
		url    string
		secure any
	}{
		"dev":  {"http://airbyte.dev.data.example.com", "false"},
		"prod": {"https://airbyte.data.example.com", nil},
	} {
		p := stackPlan(t, stack)
		var env map[string]any
		for _, o := range objectsOf(t, p, "airbyte") {
			if o.Kind == "ConfigMap" && o.Name == "airbyte-airbyte-env" {
				env = o.Body["data"].(map[string]any)
			}
		}
		require.NotNil(t, env)
		assert.Equal(t, want.url, env["AIRBYTE_URL"], stack)
		assert.Equal(t, want.url+"/api/public", env["AIRBYTE_API_HOST"], stack)
		assert.Equal(t, want.secure, env["AB_COOKIE_SECURE"], "%s: a Secure cookie only over HTTPS, or the browser drops it", stack)
		assert.Equal(t, want.url, p.Outputs["airbyteUrl"])
	}
}
