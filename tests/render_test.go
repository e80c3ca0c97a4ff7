package tests

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/charts"
	"github.com/dataplatform/dataplatform/internal/helmrender"
	"github.com/dataplatform/dataplatform/internal/mocks"
	"github.com/dataplatform/dataplatform/plan"
)

// freshPlan plans a stack anew, for a test that breaks its objects.
func freshPlan(t *testing.T, stack string) *plan.Plan {
	t.Helper()
	p, err := plan.RunStack(projectDir, stack)
	require.NoError(t, err)
	return p
}

// objectsOf returns the rendered objects of the release named name.
func objectsOf(t *testing.T, p *plan.Plan, name string) []plan.Object {
	t.Helper()
	return p.Objects(release(t, p, name).URN)
}

// objectNamed returns a pointer to a rendered object of a release.
func objectNamed(t *testing.T, p *plan.Plan, releaseName, kind, name string) *plan.Object {
	t.Helper()
	objs := p.AllObjects()[release(t, p, releaseName).URN]
	for i := range objs {
		if objs[i].Kind == kind && objs[i].Name == name {
			return &objs[i]
		}
	}
	t.Fatalf("release %s renders no %s %s", releaseName, kind, name)
	return nil
}

// violations returns the messages of the rule's violations.
func violations(vs []mocks.Violation, rule string) []string {
	var out []string
	for _, v := range vs {
		if v.Rule == rule {
			out = append(out, v.String())
		}
	}
	return out
}

func TestEveryReleaseInstallsItsVendoredArchive(t *testing.T) {
	sums, err := charts.ReadSums(filepath.Join(projectDir, charts.Dir))
	require.NoError(t, err)
	entries, err := os.ReadDir(filepath.Join(projectDir, charts.Dir))
	require.NoError(t, err)
	var archives []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tgz") {
			archives = append(archives, e.Name())
			_, err := charts.Read(projectDir, charts.Dir+"/"+e.Name())
			assert.NoError(t, err, "%s matches SHA256SUMS", e.Name())
		}
	}
	assert.Len(t, sums, len(archives), "SHA256SUMS lists every archive and nothing else")
	installed := map[string]bool{}
	for _, stack := range []string{"dev", "prod"} {
		for _, r := range stackPlan(t, stack).Find(plan.ReleaseType) {
			chart := r.Inputs["chart"].(string)
			installed[filepath.Base(chart)] = true
			data, err := charts.Read(projectDir, chart)
			require.NoError(t, err)
			meta, err := helmrender.Metadata(data)
			require.NoError(t, err)
			assert.Equal(t, r.Inputs["version"], meta.Version, "%s holds the version the release pins", chart)
			assert.NotEmpty(t, r.Rendered, "%s is rendered", r.Name)
		}
	}
	for _, a := range archives {
		assert.True(t, installed[a], "%s is vendored but no release installs it", a)
	}

	// A version that is not vendored fails the plan, naming the archive.
	opts := stackOptions(t, "dev")
	setIn("dataplatform:apps", "airflow.chartVersion", "1.99.0")(t, opts)
	_, err = plan.Run(opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "chart archive ./charts/airflow-1.99.0.tgz is not vendored")
	assert.Contains(t, err.Error(), "scripts/vendor-chart.sh")

	// So does an archive whose bytes are not the ones SHA256SUMS lists.
	dir := projectCopy(t)
	path := filepath.Join(dir, charts.Path("", charts.Airbyte, "2.2.0"))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, append(data, 0), 0o644))
	opts = stackOptions(t, "dev")
	opts.Dir = dir
	_, err = plan.Run(opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "but SHA256SUMS lists")
}

func TestTheChartsOwnSchemaAndTemplatesJudgeTheValues(t *testing.T) {
	archive, err := charts.Read(projectDir, charts.Path("", charts.Airflow, "1.21.0"))
	require.NoError(t, err)
	rel := helmrender.Release{Name: "airflow", Namespace: "airflow", KubeVersion: "1.35",
		Values: map[string]any{"pgbouncer": map[string]any{"enable": true}}}
	_, err = helmrender.Render(archive, rel)
	require.Error(t, err, "a misspelt key")
	assert.Contains(t, err.Error(), "values don't meet the specifications of the schema")
	assert.Contains(t, err.Error(), "enable")

	lbc, err := charts.Read(projectDir, charts.Path("", charts.AWSLoadBalancerController, "3.5.0"))
	require.NoError(t, err)
	_, err = helmrender.Render(lbc, helmrender.Release{Name: "x", Namespace: "kube-system", KubeVersion: "1.35"})
	require.Error(t, err, "a value the chart requires")
	assert.Contains(t, err.Error(), "clusterName")
}

func TestRenderingMarksWhatTheChartGeneratesAtInstall(t *testing.T) {
	// The load balancer controller's chart generates its webhook's
	// certificate: the plan shows that it is generated, not a value that
	// would differ run to run.
	p := stackPlan(t, "prod")
	var webhookSecret map[string]any
	for _, o := range objectsOf(t, p, "load-balancer-controller") {
		if o.Kind == "Secret" {
			webhookSecret = o.Body
		}
	}
	require.NotNil(t, webhookSecret)
	for k, v := range webhookSecret["data"].(map[string]any) {
		assert.Equal(t, helmrender.Generated, v, k)
	}
	shown := release(t, p, "load-balancer-controller").Rendered["Secret kube-system/aws-load-balancer-tls"].(map[string]any)
	for k, v := range shown["data"].(map[string]any) {
		assert.Equal(t, plan.SecretMarker, v, "the plan never shows a Secret's values: %s", k)
	}
}

func TestRenderedObjectsAreInTheTreeTheJSONAndTheDiff(t *testing.T) {
	p := stackPlan(t, "prod")
	var tree bytes.Buffer
	require.NoError(t, p.WriteTree(&tree))
	assert.Contains(t, tree.String(), "kubernetes:helm.sh/v3:Release  airflow  chart=./charts/airflow-1.21.0.tgz")
	assert.Regexp(t, `└─ rendered: .*\d+ Deployment`, tree.String())
	js, err := p.JSON()
	require.NoError(t, err)
	assert.Contains(t, string(js), `"Deployment airflow/airflow-scheduler"`)

	// A values change shows as the rendered fields it changes.
	opts := stackOptions(t, "prod")
	setIn("dataplatform:apps", "airflow.replicas.scheduler", 3)(t, opts)
	changed, err := plan.Run(opts)
	require.NoError(t, err)
	d := plan.Compare(p, changed)
	var paths []string
	for _, c := range d.Changed {
		for _, f := range c.Fields {
			paths = append(paths, c.Name+" "+f.Path)
		}
	}
	assert.Contains(t, paths, "airflow rendered.Deployment airflow/airflow-scheduler.spec.replicas")
	assert.Contains(t, paths, "airflow inputs.values.scheduler.replicas")
}

// breakObjects runs the object checks on a fresh plan that break broke.
func breakObjects(t *testing.T, stack string, broke func(p *plan.Plan)) []mocks.Violation {
	t.Helper()
	p := freshPlan(t, stack)
	require.Empty(t, objectFindings(p), "the unbroken plan passes")
	broke(p)
	return objectFindings(p)
}

// objectFindings are what the checks over the cluster's objects find: the
// refusals and the guardrails (plan.ObjectGuardrails).
func objectFindings(p *plan.Plan) []mocks.Violation {
	out := p.CheckObjects()
	for _, g := range plan.ObjectGuardrails() {
		out = append(out, p.CheckObjectGuardrail(g.ID)...)
	}
	return out
}

func TestPodsRunAsServiceAccountsThatExist(t *testing.T) {
	vs := breakObjects(t, "prod", func(p *plan.Plan) {
		objs := p.AllObjects()[release(t, p, "airflow").URN]
		for i := range objs {
			if objs[i].Kind == "ServiceAccount" && objs[i].Name == "airflow-worker" {
				objs[i].Kind = "ConfigMap" // the chart no longer makes it
			}
		}
	})
	got := strings.Join(violations(vs, plan.RuleServiceAccount), "\n")
	assert.Contains(t, got, "run as service account airflow/airflow-worker, which neither a chart nor the program creates")
	assert.Contains(t, got, "pods of ConfigMap airflow/airflow-config data.pod_template_file.yaml", "Airflow's task pods come from its pod template")
}

func TestServiceAccountsAndRoleTrustsMatchBothWays(t *testing.T) {
	vs := breakObjects(t, "prod", func(p *plan.Plan) {
		sa := objectNamed(t, p, "karpenter", "ServiceAccount", "karpenter")
		sa.Body["metadata"].(map[string]any)["annotations"].(map[string]any)[plan.RoleARNAnnotation] = stackPlan(t, "prod").Outputs["airflowRoleArn"]
	})
	got := strings.Join(violations(vs, plan.RuleIRSA), "\n")
	assert.Contains(t, got, "ServiceAccount kube-system/karpenter: is annotated with role arn:aws:iam::123456789012:role/airflow-role")
	assert.Contains(t, got, "not system:serviceaccount:kube-system:karpenter")
	assert.Contains(t, got, "trusts system:serviceaccount:kube-system:karpenter, but no service account of the plan by that name is annotated with this role")
}

func TestCustomResourcesValidateAgainstTheirCRDs(t *testing.T) {
	vs := breakObjects(t, "prod", func(p *plan.Plan) {
		for i := range p.Resources {
			r := &p.Resources[i]
			if r.Type == "kubernetes:karpenter.sh/v1:NodePool" && r.Name == "karpenter-spot" {
				spec := r.Inputs["spec"].(map[string]any)
				spec["disruption"].(map[string]any)["consolidateAftr"] = "1m"                   // misspelt
				spec["template"].(map[string]any)["spec"].(map[string]any)["expireAfter"] = 720 // not a duration
				r.Dependencies = nil                                                            // and no wait for the CRDs
			}
		}
	})
	got := strings.Join(violations(vs, plan.RuleCRD), "\n")
	assert.Contains(t, got, "NodePool spot: does not validate against CRD nodepools.karpenter.sh")
	assert.Contains(t, got, "/spec/disruption")
	assert.Contains(t, got, "consolidateAftr")
	assert.Contains(t, got, "/spec/template/spec/expireAfter")
	assert.Contains(t, got, "is created without waiting for karpenter-crd, which installs its CRD nodepools.karpenter.sh")
}

func TestReleasesWaitForTheWebhooksThatInterceptThem(t *testing.T) {
	// The load balancer controller's chart can intercept every new Service
	// (enableServiceMutatorWebhook); the platform turns that off. Put it
	// back and every chart that creates a Service beside it is caught.
	vs := breakObjects(t, "prod", func(p *plan.Plan) {
		hook := objectNamed(t, p, "load-balancer-controller", "MutatingWebhookConfiguration", "aws-load-balancer-webhook")
		hooks := hook.Body["webhooks"].([]any)
		hook.Body["webhooks"] = append(hooks, map[string]any{
			"name": "mservice.elbv2.k8s.aws", "failurePolicy": "Fail",
			"objectSelector": map[string]any{"matchExpressions": []any{map[string]any{"key": "app.kubernetes.io/name", "operator": "NotIn", "values": []any{"aws-load-balancer-controller"}}}},
			"rules":          []any{map[string]any{"apiGroups": []any{""}, "apiVersions": []any{"v1"}, "operations": []any{"CREATE"}, "resources": []any{"services"}}},
		})
	})
	got := strings.Join(violations(vs, plan.RuleWebhookOrder), "\n")
	assert.Contains(t, got, `kubernetes:helm.sh/v3:Release "karpenter": Service kube-system/karpenter: is created while load-balancer-controller, whose webhook mservice.elbv2.k8s.aws intercepts it and fails closed`)
	assert.Contains(t, got, `"secret-sync": Service external-secrets/external-secrets-webhook`)
	assert.NotContains(t, got, `"airbyte"`, "Airbyte waits for the controller")
	assert.NotContains(t, got, "aws-load-balancer-webhook-service", "the controller's own Service is excluded by its selector")
}

func TestNoPodIsPointedAtLocalhostOrAPlaceholder(t *testing.T) {
	vs := breakObjects(t, "prod", func(p *plan.Plan) {
		env := objectNamed(t, p, "airbyte", "ConfigMap", "airbyte-airbyte-env")
		data := env.Body["data"].(map[string]any)
		data["AIRBYTE_URL"] = "http://localhost:8080" // the chart's default
		data["AIRBYTE_API_HOST"] = "http://airbyte.example/api/<changeme>"
	})
	got := strings.Join(violations(vs, plan.RuleAddress), "\n")
	assert.Contains(t, got, `pods of Deployment airbyte/airbyte-server: container airbyte-server-container: AIRBYTE_URL="http://localhost:8080" points at the pod itself, where nothing listens on that port`)
	assert.Contains(t, got, `AIRBYTE_API_HOST="http://airbyte.example/api/<changeme>" is a placeholder`)

	// A sidecar in the same pod is a real address: PgBouncer's exporter
	// reads PgBouncer on localhost.
	assert.Empty(t, breakObjects(t, "prod", func(p *plan.Plan) {
		d := objectNamed(t, p, "airflow", "Deployment", "airflow-pgbouncer")
		ctrs := d.Body["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)
		ctrs[0].(map[string]any)["env"] = []any{map[string]any{"name": "SELF", "value": "127.0.0.1:6543"}}
	}))
}

func TestEveryImageRunsOnTheNodesItsPodsLandOn(t *testing.T) {
	// The pools of both stacks mix arm64 and amd64, and the core nodes are
	// arm64 (Graviton).
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		for _, np := range p.Find("kubernetes:karpenter.sh/v1:NodePool") {
			assert.Contains(t, mustJSON(t, np.Inputs), `"values":["arm64","amd64"]`, "%s %s mixes architectures", stack, np.Name)
		}
		// Airbyte's job pods are modelled from its launcher's config, with
		// the connectors in them.
		var job *plan.ClusterObject
		for _, o := range p.ClusterObjects() {
			if o.Kind == "Pod" && o.Name == "airbyte-job" {
				job = &o
			}
		}
		require.NotNil(t, job, "%s: Airbyte's job pods are checked", stack)
		assert.Equal(t, "amd64", str(job.Body, "spec", "nodeSelector", "kubernetes.io/arch"), "%s: connectors run on amd64", stack)
	}

	// Negative controls: jobs on any architecture, a single-architecture
	// Airflow image on a mixed pool, and an image not in the table.
	vs := breakObjects(t, "prod", func(p *plan.Plan) {
		for i, o := range p.AllObjects()[release(t, p, "airbyte").URN] {
			if o.Kind == "ConfigMap" && o.Name == "airbyte-airbyte-env" {
				p.AllObjects()[release(t, p, "airbyte").URN][i].Body["data"].(map[string]any)["JOB_KUBE_NODE_SELECTORS"] = "karpenter.sh/nodepool=spot"
			}
		}
		d := objectNamed(t, p, "karpenter", "Deployment", "karpenter")
		ctrs := d.Body["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)
		ctrs[0].(map[string]any)["image"] = "example.org/karpenter-fork:1.0"
	})
	got := strings.Join(violations(vs, plan.RuleArchitecture), "\n")
	assert.Contains(t, got, "pods of ConfigMap airbyte/airbyte-airbyte-env JOB_KUBE_*: container source: image (Airbyte connectors) is published for amd64 only")
	assert.Contains(t, got, "but the pods may land on arm64 nodes of NodePool spot: pin them with nodeSelector kubernetes.io/arch=amd64")
	assert.Contains(t, got, "pods of Deployment kube-system/karpenter: container controller: image example.org/karpenter-fork:1.0 is published for amd64 only (not in plan.ImageArchitectures: taken to be amd64 only), but the pods may land on arm64 nodes of node group cluster-core")
	assert.NotContains(t, got, "airbyte-server", "Airbyte's own images are published for both")

	// A team's own Airflow image: amd64 unless it says otherwise, and then
	// every Airflow pod stays on amd64 nodes.
	opts := stackOptions(t, "prod")
	setIn("dataplatform:apps", "airflow.image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/dataplatform-prod/airflow-tasks:2026.11.1")(t, opts)
	p, err := plan.Run(opts)
	require.NoError(t, err)
	v := values(t, p, "airflow")
	assert.Equal(t, map[string]any{"kubernetes.io/arch": "amd64"}, v["nodeSelector"])
	assert.Equal(t, "amd64", str(v, "workers", "kubernetes", "nodeSelector", "kubernetes.io/arch"), "task pods too")
	setIn("dataplatform:apps", "airflow.imageArchitectures", []string{"arm64", "amd64"})(t, opts)
	p, err = plan.Run(opts)
	require.NoError(t, err)
	assert.Nil(t, values(t, p, "airflow")["nodeSelector"], "a multi-architecture image runs anywhere")
	setIn("dataplatform:apps", "airflow.imageArchitectures", []string{"riscv64"})(t, opts)
	_, err = plan.Run(opts)
	assert.ErrorContains(t, err, `dataplatform:apps.airflow.imageArchitectures[0]: want one of "amd64", "arm64", each once, got "riscv64"`)
}

func TestConnectorJobsNeedAPoolOfTheirArchitecture(t *testing.T) {
	opts := stackOptions(t, "prod")
	k := section(t, opts, "dataplatform:karpenter")
	for _, np := range k["nodePools"].([]any) {
		np.(map[string]any)["architectures"] = []string{"arm64"}
	}
	setSection(t, opts, "dataplatform:karpenter", k)
	_, err := plan.Run(opts)
	assert.ErrorContains(t, err, `dataplatform:apps.airbyte.connectorArchitecture: "amd64", but the jobs' node pool "spot" launches only arm64 nodes`)
	setIn("dataplatform:apps", "airbyte.connectorArchitecture", "arm64")(t, opts)
	_, err = plan.Run(opts)
	assert.NoError(t, err, "connectors known to be published for arm64 may run there")
}
