package tests

import (
	"bytes"
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/santhosh-tekuri/jsonschema/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/chart/loader"

	"github.com/dataplatform/dataplatform/charts"
	"github.com/dataplatform/dataplatform/components/airbyte"
	"github.com/dataplatform/dataplatform/plan"
)

func release(t *testing.T, p *plan.Plan, name string) plan.Resource {
	t.Helper()
	return findByName(t, p, "kubernetes:helm.sh/v3:Release", name)
}

func values(t *testing.T, p *plan.Plan, name string) map[string]any {
	t.Helper()
	v, ok := release(t, p, name).Inputs["values"].(map[string]any)
	require.True(t, ok, "release %s has values", name)
	return v
}

func TestAppReleasesArePlanned(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		for name, chart := range map[string]string{
			"secret-sync": "external-secrets", "load-balancer-controller": "aws-load-balancer-controller",
			"airbyte": "airbyte", "airflow": "airflow",
		} {
			r := release(t, p, name)
			assert.Regexp(t, `^\d+\.\d+\.\d+$`, r.Inputs["version"], "%s %s is pinned", stack, name)
			assert.Equal(t, "./charts/"+chart+"-"+r.Inputs["version"].(string)+".tgz", r.Inputs["chart"], "%s %s installs the vendored archive", stack, name)
			assert.NotContains(t, r.Inputs, "repositoryOpts", "no chart repository is contacted")
			assert.NotEmpty(t, r.Rendered, "%s %s is rendered", stack, name)
		}
	}
}

// airflowSchema compiles the values schema of the vendored Airflow chart
// (the archive the release installs) and returns its default values.
func airflowSchema(t *testing.T) (*jsonschema.Schema, map[string]any) {
	t.Helper()
	ch, err := loader.Load(filepath.Join(projectDir, charts.Path("", charts.Airflow, "1.21.0")))
	require.NoError(t, err)
	require.NotEmpty(t, ch.Schema, "the chart ships its values schema")
	comp := jsonschema.NewCompiler()
	require.NoError(t, comp.AddResource("values.schema.json", bytes.NewReader(ch.Schema)))
	schema, err := comp.Compile("values.schema.json")
	require.NoError(t, err)
	return schema, ch.Values
}

// coalesce merges ours over the chart's defaults the way Helm does: maps
// merge key by key, anything else replaces.
func coalesce(defaults, ours map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range defaults {
		out[k] = v
	}
	for k, v := range ours {
		if om, ok := v.(map[string]any); ok {
			if dm, ok := out[k].(map[string]any); ok {
				out[k] = coalesce(dm, om)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// asJSON round-trips v through JSON so YAML's types match what Helm validates.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

func TestAirflowValuesPassTheOfficialSchema(t *testing.T) {
	schema, defaults := airflowSchema(t)
	require.NoError(t, schema.Validate(asJSON(t, defaults)), "the chart's own defaults validate")
	for _, stack := range []string{"dev", "prod"} {
		ours := values(t, stackPlan(t, stack), "airflow")
		merged := coalesce(defaults, ours)
		assert.NoError(t, schema.Validate(asJSON(t, merged)), "%s: Airflow values fail the chart's schema", stack)
	}
	// The check has teeth: a misspelt key or a wrong type is refused.
	bad := coalesce(defaults, map[string]any{"pgbouncer": map[string]any{"enable": true}})
	assert.Error(t, schema.Validate(asJSON(t, bad)))
	bad = coalesce(defaults, map[string]any{"config": map[string]any{"secrets": map[string]any{"backend_kwargs": map[string]any{"a": "b"}}}})
	assert.Error(t, schema.Validate(asJSON(t, bad)))
}

func TestAirflowValuesAreWiredToAWSWithoutSecrets(t *testing.T) {
	p := stackPlan(t, "prod")
	v := values(t, p, "airflow")
	assert.Equal(t, "KubernetesExecutor", v["executor"])
	assert.Equal(t, false, v["postgresql"].(map[string]any)["enabled"])
	assert.Equal(t, "airflow-metadata", str(v, "data", "metadataSecretName"))
	pgb := v["pgbouncer"].(map[string]any)
	assert.Equal(t, true, pgb["enabled"])
	assert.Equal(t, "airflow-pgbouncer-config", pgb["configSecretName"], "PgBouncer gets our config, or it points at a Postgres that does not exist")
	assert.Equal(t, "airflow-pgbouncer-stats", str(pgb, "metricsExporterSidecar", "statsSecretName"))
	for _, k := range []string{"fernetKeySecretName", "apiSecretKeySecretName", "jwtSecretName"} {
		assert.Equal(t, "airflow-platform", v[k], k)
	}
	assert.Equal(t, "True", str(v, "config", "logging", "remote_logging"))
	assert.Equal(t, "s3://"+p.Outputs["airflowLogBucket"].(string)+"/logs", str(v, "config", "logging", "remote_base_log_folder"))
	assert.Equal(t, "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend", str(v, "config", "secrets", "backend"))
	var kwargs map[string]string
	require.NoError(t, json.Unmarshal([]byte(str(v, "config", "secrets", "backend_kwargs")), &kwargs))
	assert.Equal(t, "dataplatform-prod/airflow/connections", kwargs["connections_prefix"])
	assert.Equal(t, false, v["statsd"].(map[string]any)["enabled"], "the CloudWatch agent receives StatsD: no idle exporter")
	cfg := release(t, p, "airflow").Rendered["ConfigMap airflow/airflow-config"].(map[string]any)["data"].(map[string]any)["airflow.cfg"].(string)
	assert.Contains(t, cfg, "statsd_host = cloudwatch-agent.amazon-cloudwatch.svc.cluster.local")
	assert.Contains(t, cfg, "statsd_on = True")
	assert.NotContains(t, release(t, p, "airflow").Rendered, "Deployment airflow/airflow-statsd")
	git := v["dags"].(map[string]any)["gitSync"].(map[string]any)
	assert.Equal(t, true, git["enabled"])
	assert.Equal(t, "airflow-git-credentials", git["credentialsSecret"])

	// dev has no single sign-on: a first admin is created, with the
	// password from its Secret.
	job := values(t, stackPlan(t, "dev"), "airflow")["createUserJob"].(map[string]any)
	assert.Equal(t, "", str(job, "defaultUser", "password"), "no admin password in the values (and no admin/admin)")
	args := job["args"].([]any)
	assert.Equal(t, "$(DATAPLATFORM_ADMIN_PASSWORD)", args[len(args)-1], "the job reads the password from the synced secret")
	env := job["env"].([]any)[0].(map[string]any)
	assert.Equal(t, "airflow-platform", str(env, "valueFrom", "secretKeyRef", "name"))
	assert.Equal(t, "admin-password", str(env, "valueFrom", "secretKeyRef", "key"))
	for _, host := range v["ingress"].(map[string]any)["apiServer"].(map[string]any)["hosts"].([]any) {
		assert.Equal(t, "airflow.data.example.com", host.(map[string]any)["name"])
	}
}

func TestAirbyteValuesUseTheKeysItsChartReads(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		v := values(t, p, "airbyte")
		g := v["global"].(map[string]any)
		assert.Equal(t, "s3", str(g, "storage", "type"), "lowercase: the chart ignores S3")
		assert.Equal(t, "instanceProfile", str(g, "storage", "s3", "authenticationType"))
		bucket := p.Outputs["airbyteBucket"].(string)
		for _, k := range []string{"log", "state", "workloadOutput", "activityPayload"} {
			assert.Equal(t, bucket, str(g, "storage", "bucket", k), k)
		}
		assert.Equal(t, "AWS_SECRET_MANAGER", str(g, "secretsManager", "type"))
		asm := g["secretsManager"].(map[string]any)["awsSecretManager"].(map[string]any)
		assert.Equal(t, p.Outputs["platformKeyArn"], asm["kmsArn"], "the chart reads kmsArn, not kms")
		assert.NotContains(t, asm, "kms")
		assert.Contains(t, asm["tags"], map[string]any{"key": "AirbyteManaged", "value": "true"})
		assert.Equal(t, false, v["minio"].(map[string]any)["enabled"])
		assert.Equal(t, false, v["postgresql"].(map[string]any)["enabled"])
		db := g["database"].(map[string]any)
		assert.Equal(t, "external", db["type"])
		assert.Equal(t, p.Outputs["airbyteDatabase"], db["host"])
		// The chart reads name, not database; it ends the JDBC URL, so it
		// carries the URL's TLS parameters too.
		assert.Equal(t, "airbyte"+airbyte.JDBCParams, db["name"], "the chart reads name, not database")
		assert.Equal(t, "airbyte-db-credentials", db["secretName"])
		assert.Equal(t, "DATABASE_USER", str(db, "replica", "userSecretKey"), "the chart also reads replica credentials from the secret")
		// The job pods run connector code as an account of their own
		// (JOB_KUBE_SERVICEACCOUNT is the global account); every component
		// names the platform's.
		assert.Equal(t, "airbyte-jobs", g["serviceAccountName"])
		assert.Equal(t, map[string]any{"create": false, "name": "airbyte-admin"}, v["serviceAccount"])
		rel := release(t, p, "airbyte")
		for _, o := range p.ClusterObjects() {
			if o.Owner != rel.URN || o.Kind != "Pod" {
				continue
			}
			want := "airbyte-admin"
			if plan.RunsUserCode(o) {
				want = "airbyte-jobs"
			}
			assert.Equal(t, want, str(o.Body, "spec", "serviceAccountName"), "%s %s", o.Key(), o.From)
		}
		assert.NotContains(t, mustJSON(t, v), `"password"`, "no credential in the values")
		es := findByName(t, p, "kubernetes:external-secrets.io/v1:ExternalSecret", "airbyte-db")
		assert.Equal(t, "airbyte-db-credentials", str(es.Inputs, "spec", "target", "name"))
		tmpl := es.Inputs["spec"].(map[string]any)["target"].(map[string]any)["template"].(map[string]any)["data"].(map[string]any)
		assert.ElementsMatch(t, []string{"DATABASE_USER", "DATABASE_PASSWORD"}, keysOf(tmpl))
	}
	prod := values(t, stackPlan(t, "prod"), "airbyte")
	assert.Empty(t, str(prod, "global", "database", "replica", "url"), "Airbyte does not wait for the read replica")
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// annotatedAccount is a service account some chart or resource creates with an IRSA annotation.
type annotatedAccount struct{ subject, roleARN string }

func annotatedAccounts(t *testing.T, p *plan.Plan) []annotatedAccount {
	var out []annotatedAccount
	add := func(ns, name string, ann any) {
		if arn, ok := ann.(map[string]any)["eks.amazonaws.com/role-arn"].(string); ok {
			out = append(out, annotatedAccount{"system:serviceaccount:" + ns + ":" + name, arn})
		}
	}
	for _, r := range p.Find("kubernetes:helm.sh/v3:Release") {
		ns := str(r.Inputs, "namespace")
		v, _ := r.Inputs["values"].(map[string]any)
		var walk func(m map[string]any)
		walk = func(m map[string]any) {
			for k, x := range m {
				child, ok := x.(map[string]any)
				if !ok {
					continue
				}
				if k == "serviceAccount" && child["annotations"] != nil && child["create"] != false {
					add(ns, str(child, "name"), child["annotations"])
				}
				walk(child)
			}
		}
		walk(v)
	}
	for _, sa := range p.Find("kubernetes:core/v1:ServiceAccount") {
		md := sa.Inputs["metadata"].(map[string]any)
		if md["annotations"] != nil {
			add(str(md, "namespace"), str(md, "name"), md["annotations"])
		}
	}
	return out
}

func TestEveryAnnotatedServiceAccountIsTrustedByItsRoleAndNoOtherIs(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		roleByARN := map[string]string{}
		for _, r := range p.Records() {
			if r.Type == "aws:iam/role:Role" {
				roleByARN[r.Outputs["arn"].StringValue()] = r.Name
			}
		}
		trusts := roleTrusts(t, p)
		trusted := map[string]map[string]bool{} // role -> subjects
		for role, stmts := range trusts {
			for _, s := range stmts {
				cond, _ := s["Condition"].(map[string]any)
				eq, _ := cond["StringEquals"].(map[string]any)
				for k, v := range eq {
					if strings.HasSuffix(k, ":sub") {
						trusted[role] = map[string]bool{}
						for _, sub := range v.([]any) {
							trusted[role][sub.(string)] = true
						}
					}
				}
			}
		}
		annotated := map[string]map[string]bool{}
		accounts := annotatedAccounts(t, p)
		require.GreaterOrEqual(t, len(accounts), 9, "Karpenter, the LB controller, ESO, Airbyte and five Airflow components")
		for _, a := range accounts {
			role, ok := roleByARN[a.roleARN]
			require.True(t, ok, "%s names %s, which the plan does not create", a.subject, a.roleARN)
			assert.True(t, trusted[role][a.subject], "%s: %s is annotated with role %s, which does not trust it", stack, a.subject, role)
			if annotated[role] == nil {
				annotated[role] = map[string]bool{}
			}
			annotated[role][a.subject] = true
		}
		// EKS add-ons create and annotate their own service accounts with
		// the role given as serviceAccountRoleArn.
		for _, addon := range p.Find("aws:eks/addon:Addon") {
			if arn := str(addon.Inputs, "serviceAccountRoleArn"); arn != "" {
				role, ok := roleByARN[arn]
				require.True(t, ok, "add-on %s names %s, which the plan does not create", addon.Name, arn)
				annotated[role] = trusted[role]
			}
		}
		for role, subs := range trusted {
			for sub := range subs {
				assert.True(t, annotated[role][sub], "%s: role %s trusts %s, which nothing annotates", stack, role, sub)
			}
		}
	}
}

func TestAppReleasesWaitForExactlyWhatTheyNeed(t *testing.T) {
	p := stackPlan(t, "prod")
	for app, want := range map[string][]string{
		"airbyte": {
			"kubernetes:core/v1:Namespace", "kubernetes:core/v1:ServiceAccount", "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
			"kubernetes:external-secrets.io/v1:ExternalSecret", "aws:rds/instance:Instance",
			"aws:iam/role:Role", "aws:iam/policy:Policy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
			"aws:s3/bucketV2:BucketV2", "aws:s3/bucketPolicy:BucketPolicy", "aws:kms/key:Key",
			"kubernetes:helm.sh/v3:Release", "kubernetes:karpenter.sh/v1:NodePool", "aws:rds/snapshot:Snapshot",
			"kubernetes:batch/v1:Job", "kubernetes:core/v1:ConfigMap", "kubernetes:networking.k8s.io/v1:NetworkPolicy",
			"aws:cognito/userPool:UserPool", "aws:cognito/userPoolClient:UserPoolClient", "aws:cognito/userPoolDomain:UserPoolDomain",
		},
		"airflow": {
			"kubernetes:core/v1:Namespace", "kubernetes:external-secrets.io/v1:ExternalSecret", "aws:rds/instance:Instance",
			"kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
			"aws:iam/role:Role", "aws:iam/policy:Policy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
			"aws:s3/bucketV2:BucketV2", "aws:s3/bucketPolicy:BucketPolicy",
			"kubernetes:helm.sh/v3:Release", "kubernetes:karpenter.sh/v1:NodePool", "aws:rds/snapshot:Snapshot",
			"kubernetes:batch/v1:Job", "kubernetes:networking.k8s.io/v1:NetworkPolicy",
			"aws:cognito/userPool:UserPool", "aws:cognito/userPoolClient:UserPoolClient", "aws:cognito/userPoolDomain:UserPoolDomain",
		},
	} {
		r := release(t, p, app)
		types := map[string]bool{}
		for _, d := range r.Dependencies {
			dep, ok := p.ByURN(d)
			require.True(t, ok, "%s depends on %s, which is not in the plan", app, d)
			types[dep.Type] = true
			if dep.Type == "kubernetes:helm.sh/v3:Release" {
				assert.Equal(t, "load-balancer-controller", dep.Name, "%s waits for no other release", app)
			}
			switch dep.Type {
			case "kubernetes:core/v1:Namespace":
				assert.Equal(t, app, str(dep.Inputs, "metadata", "name"), "%s waits for its own namespace", app)
			case "kubernetes:core/v1:ServiceAccount", "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "kubernetes:external-secrets.io/v1:ExternalSecret", "kubernetes:core/v1:ConfigMap", "kubernetes:networking.k8s.io/v1:NetworkPolicy":
				assert.Equal(t, app, str(dep.Inputs, "metadata", "namespace"), "%s waits for %s of another namespace", app, dep.Name)
			}
		}
		assert.ElementsMatch(t, want, keysOfBool(types), "%s waits for its namespace, database (and its pre-upgrade snapshot), the job that makes its logins, bucket, role, synced secrets, the RDS CA bundle its pods mount, the LB controller and a NodePool", app)
	}
}

func keysOfBool(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestSecretsReachPodsOnlyThroughTheirNamespacesStore(t *testing.T) {
	p := stackPlan(t, "prod")
	op := values(t, p, "secret-sync")
	assert.Equal(t, true, op["installCRDs"])
	// No cluster-wide store can exist: its CRD is not installed and the
	// controller does not reconcile one.
	for _, k := range []string{"processClusterStore", "processClusterExternalSecret", "processPushSecret", "processClusterPushSecret"} {
		assert.Equal(t, false, op[k], k)
	}
	rel := findByName(t, p, plan.ReleaseType, "secret-sync")
	for _, o := range p.Objects(rel.URN) {
		if o.Kind == "CustomResourceDefinition" {
			assert.NotContains(t, []string{"clustersecretstores.external-secrets.io", "clusterexternalsecrets.external-secrets.io", "pushsecrets.external-secrets.io"}, o.Name)
		}
	}
	assert.Empty(t, p.Find("kubernetes:external-secrets.io/v1:ClusterSecretStore"))
	stores := map[string]plan.Resource{}
	for _, s := range p.Find("kubernetes:external-secrets.io/v1:SecretStore") {
		stores[str(s.Inputs, "metadata", "namespace")] = s
		assert.Equal(t, "SecretsManager", str(s.Inputs, "spec", "provider", "aws", "service"))
		assert.Equal(t, "secret-store", str(s.Inputs, "spec", "provider", "aws", "auth", "jwt", "serviceAccountRef", "name"))
	}
	assert.ElementsMatch(t, []string{"airbyte", "airflow", "db-admin"}, slices.Collect(maps.Keys(stores)))
	for _, es := range p.Find("kubernetes:external-secrets.io/v1:ExternalSecret") {
		spec := es.Inputs["spec"].(map[string]any)
		assert.Equal(t, "15m", spec["refreshInterval"], "%s refreshes, so a rotated password arrives", es.Name)
		assert.Equal(t, "SecretStore", str(spec, "secretStoreRef", "kind"))
		assert.Equal(t, "condition=Ready", str(es.Inputs, "metadata", "annotations", "pulumi.com/waitFor"), "Pulumi waits until %s is synced", es.Name)
		store, ok := stores[str(es.Inputs, "metadata", "namespace")]
		require.True(t, ok, "%s has a store in its namespace", es.Name)
		assert.Contains(t, es.Dependencies, store.URN)
	}
	// Each namespace's store reads exactly its app's secrets; only
	// db-admin's reads the RDS master credentials.
	login := func(name string) any { return findRecordOutput(t, p, "aws:secretsmanager/secret:Secret", name, "arn") }
	readable := func(ns string) []any {
		var out []string
		for _, s := range policyStatements(t, p)[ns+"-secrets-role-read"] {
			if strings.HasPrefix(plan.Strings(s["Action"])[0], "secretsmanager:") {
				out = append(out, plan.Strings(s["Resource"])...)
			}
		}
		return toAny(out)
	}
	assert.ElementsMatch(t, []any{login("airbyte-logins-blue"), login("airbyte-logins-green")}, readable("airbyte"))
	assert.ElementsMatch(t, []any{
		login("secrets-airflow"), login("airflow-logins-blue"), login("airflow-logins-green"), login("sso-airflow-client"),
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:dataplatform-prod/git/dags-AbCdEf",
	}, readable("airflow"))
	assert.ElementsMatch(t, []any{
		p.Outputs["airbyteDatabaseSecretArn"], p.Outputs["airflowDatabaseSecretArn"],
		login("airbyte-logins-blue"), login("airbyte-logins-green"), login("airflow-logins-blue"), login("airflow-logins-green"),
	}, readable("db-admin"))
	// Every ExternalSecret reads only what its namespace's store may read.
	for _, es := range p.Find("kubernetes:external-secrets.io/v1:ExternalSecret") {
		allowed := readable(str(es.Inputs, "metadata", "namespace"))
		data, _ := plan.At(es.Inputs, "spec", "data").([]any)
		for _, e := range data {
			d, _ := e.(map[string]any)
			assert.Contains(t, allowed, str(d, "remoteRef", "key"), "%s reads through its own store", es.Name)
		}
	}
	pg := findByName(t, p, "kubernetes:external-secrets.io/v1:ExternalSecret", "airflow-pgbouncer-config")
	ini := str(pg.Inputs, "spec", "target", "template", "data", "pgbouncer.ini")
	assert.Contains(t, ini, "airflow-metadata = host="+p.Outputs["airflowDatabase"].(string)+" dbname=airflow port=5432")
	assert.Contains(t, ini, "server_tls_sslmode = verify-full")
	conn := findByName(t, p, "kubernetes:external-secrets.io/v1:ExternalSecret", "airflow-metadata")
	assert.Contains(t, str(conn.Inputs, "spec", "target", "template", "data", "connection"), "@airflow-pgbouncer.airflow:6543/airflow-metadata", "Airflow connects through PgBouncer")
}

func findRecordOutput(t *testing.T, p *plan.Plan, typ, name, key string) string {
	for _, r := range p.Records() {
		if r.Type == typ && r.Name == name {
			return r.Outputs[resource.PropertyKey(key)].StringValue()
		}
	}
	t.Fatalf("no %s %s", typ, name)
	return ""
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func TestLoadBalancerControllerNeedsNoInstanceMetadata(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		v := values(t, p, "load-balancer-controller")
		assert.Equal(t, p.Outputs["clusterName"], v["clusterName"])
		assert.Equal(t, "us-east-1", v["region"])
		assert.Equal(t, p.Outputs["vpcId"], v["vpcId"])
		for _, app := range []string{"airbyte", "airflow"} {
			vals := mustJSON(t, values(t, p, app))
			assert.Contains(t, vals, `"alb.ingress.kubernetes.io/scheme":"internal"`, "%s %s is internal by default", stack, app)
			if stack == "prod" {
				assert.Contains(t, vals, `"alb.ingress.kubernetes.io/certificate-arn":"arn:aws:acm:`)
			}
		}
	}
}
