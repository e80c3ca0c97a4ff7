package tests

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/insights"
	"github.com/dataplatform/dataplatform/plan"
)

func TestProdIsHighlyAvailableAndDevStaysSmall(t *testing.T) {
	prod := values(t, stackPlan(t, "prod"), "airflow")
	dev := values(t, stackPlan(t, "dev"), "airflow")
	for component, label := range map[string]string{"scheduler": "scheduler", "apiServer": "api-server", "triggerer": "triggerer", "dagProcessor": "dag-processor", "pgbouncer": "pgbouncer"} {
		c := prod[component].(map[string]any)
		assert.Equal(t, 2.0, c["replicas"], "prod %s", component)
		assert.Equal(t, true, at(c, "podDisruptionBudget", "enabled"), "prod %s has a PDB", component)
		spread := c["topologySpreadConstraints"].([]any)[0].(map[string]any)
		assert.Equal(t, "topology.kubernetes.io/zone", spread["topologyKey"])
		assert.Equal(t, label, str(spread, "labelSelector", "matchLabels", "component"))
		d := dev[component].(map[string]any)
		assert.Equal(t, 1.0, d["replicas"], "dev %s", component)
		assert.Equal(t, 1.0, at(d, "podDisruptionBudget", "config", "maxUnavailable"), "dev's single %s may be evicted (a drain restarts it elsewhere), or its node is held for 48 hours", component)
	}

	p := stackPlan(t, "prod")
	ab := values(t, p, "airbyte")
	assert.Equal(t, 2.0, at(ab, "server", "replicaCount"))
	assert.Equal(t, 2.0, at(ab, "workloadLauncher", "replicaCount"))
	assert.NotNil(t, at(ab, "server", "topologySpreadConstraints"))
	assert.NotNil(t, at(ab, "workloadLauncher", "affinity", "podAntiAffinity"))
	pdbs := map[string]map[string]any{}
	for _, r := range p.Find("kubernetes:policy/v1:PodDisruptionBudget") {
		pdbs[str(r.Inputs, "metadata", "name")] = r.Inputs["spec"].(map[string]any)
	}
	require.Contains(t, pdbs, "airbyte-server")
	require.Contains(t, pdbs, "airbyte-workload-launcher")
	assert.Equal(t, "server", str(pdbs["airbyte-server"], "selector", "matchLabels", "app.kubernetes.io/name"))
	devPDBs := stackPlan(t, "dev").Find("kubernetes:policy/v1:PodDisruptionBudget")
	assert.Len(t, devPDBs, 7, "every long-running Airbyte component")
	for _, r := range devPDBs {
		assert.Equal(t, 1.0, at(r.Inputs, "spec", "maxUnavailable"), "dev runs one replica of %s: a drain may evict it, or its node is held for 48 hours", r.Name)
	}
	assert.Equal(t, 2.0, values(t, p, "karpenter")["replicas"])
	assert.Equal(t, 2.0, values(t, p, "load-balancer-controller")["replicaCount"])
	assert.Equal(t, 2.0, values(t, p, "secret-sync")["replicaCount"])
}
func TestPlatformControllersOwnTheCoreNodesSpanningEveryZone(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		ng := p.Find("aws:eks/nodeGroup:NodeGroup")[0]
		assert.ElementsMatch(t, p.Outputs["privateSubnetIds"], ng.Inputs["subnetIds"], "%s: the core node group spans every zone", stack)
		assert.Equal(t, []any{map[string]any{"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}}, ng.Inputs["taints"])
		for _, rel := range []string{"secret-sync", "load-balancer-controller"} {
			v := values(t, p, rel)
			assert.Contains(t, mustJSON(t, v["tolerations"]), `"key":"CriticalAddonsOnly"`, "%s %s runs on the core nodes", stack, rel)
			assert.Equal(t, "core", str(v, "nodeSelector", "dataplatform.io/node-pool"))
		}
		for _, app := range []string{"airbyte", "airflow"} {
			assert.NotContains(t, mustJSON(t, values(t, p, app)), "CriticalAddonsOnly", "%s %s stays off the core nodes", stack, app)
		}
	}
}

func TestAlarmsWatchDatabasesQueueAndNodesAndNotifyTheTopic(t *testing.T) {
	// dev's apps share one instance (database.sharedInstance); prod has
	// one per app, each with a replica.
	for stack, want := range map[string]int{"dev": 5, "prod": 16} {
		p := stackPlan(t, stack)
		topic := findByName(t, p, "aws:sns/topic:Topic", "monitoring-alarms")
		assert.Equal(t, p.Outputs["platformKeyArn"], topic.Inputs["kmsMasterKeyId"], "the alarm topic is encrypted with the platform key")
		topicARN := p.Outputs["alarmTopicArn"]
		metrics := map[string]int{}
		alarms := p.Find("aws:cloudwatch/metricAlarm:MetricAlarm")
		assert.Len(t, alarms, want, stack)
		for _, a := range alarms {
			metrics[str(a.Inputs, "namespace")+"/"+str(a.Inputs, "metricName")]++
			assert.Equal(t, []any{topicARN}, a.Inputs["alarmActions"], a.Name)
		}
		instances := len(p.Find("aws:rds/instance:Instance"))
		assert.Equal(t, instances, metrics["AWS/RDS/CPUUtilization"], "one per instance")
		assert.Equal(t, instances, metrics["AWS/RDS/FreeStorageSpace"])
		assert.Equal(t, instances, metrics["AWS/RDS/DatabaseConnections"])
		assert.Equal(t, 1, metrics["AWS/SQS/ApproximateAgeOfOldestMessage"])
		assert.Equal(t, 1, metrics["ContainerInsights/cluster_failed_node_count"])
		if stack == "prod" {
			assert.Equal(t, 2, metrics["AWS/RDS/ReplicaLag"])
		}
		subs := p.Find("aws:sns/topicSubscription:TopicSubscription")
		require.Len(t, subs, 1)
		assert.Equal(t, "email", subs[0].Inputs["protocol"])
		// The key lets CloudWatch publish to the encrypted topic.
		key := findByName(t, p, "aws:kms/key:Key", "secrets-platform")
		assert.Contains(t, mustJSON(t, key.Inputs["policy"]), "cloudwatch.amazonaws.com")
	}
}

func TestMetricsAndLogsPath(t *testing.T) {
	for stack, days := range map[string]float64{"dev": 14, "prod": 365} {
		p := stackPlan(t, stack)
		ci := findByName(t, p, "aws:eks/addon:Addon", "monitoring-container-insights")
		assert.Equal(t, "amazon-cloudwatch-observability", ci.Inputs["addonName"])
		assert.NotEmpty(t, ci.Inputs["serviceAccountRoleArn"], "the agent runs with its own IRSA role")
		assert.Contains(t, mustJSON(t, ci.Inputs["configurationValues"]), `"statsd"`, "the agent listens for StatsD")
		findByName(t, p, "aws:eks/addon:Addon", "cluster-metrics-server")
		for _, g := range []string{"application", "dataplane", "host", "performance"} {
			lg := findByName(t, p, "aws:cloudwatch/logGroup:LogGroup", "monitoring-"+g)
			assert.Equal(t, days, lg.Inputs["retentionInDays"], "%s %s", stack, g)
		}
		// Every log group the platform creates has a retention.
		for _, lg := range p.Find("aws:cloudwatch/logGroup:LogGroup") {
			assert.NotNil(t, lg.Inputs["retentionInDays"], "%s %s keeps logs forever", stack, lg.Name)
		}
		v := values(t, p, "airflow")
		assert.Equal(t, "cloudwatch-agent.amazon-cloudwatch.svc.cluster.local", str(v, "config", "metrics", "statsd_host"), "Airflow's StatsD reaches CloudWatch")
		assert.Equal(t, "True", str(v, "config", "metrics", "statsd_on"))
	}
}

func TestSnapshotIsTakenBeforeEachChartUpgrade(t *testing.T) {
	p := stackPlan(t, "prod")
	for app, version := range map[string]string{"airbyte": "2-2-0", "airflow": "1-21-0"} {
		snap := findByName(t, p, "aws:rds/snapshot:Snapshot", app+"-before-"+app+"-"+version)
		assert.True(t, snap.RetainOnDelete, "%s: old snapshots stay in AWS when the version moves on", app)
		db := findByName(t, p, "aws:rds/instance:Instance", app+"-db")
		assert.Contains(t, snap.Dependencies, db.URN)
		assert.Contains(t, release(t, p, app).Dependencies, snap.URN, "%s's release waits for the snapshot", app)
	}

	// An upgrade is a vendored archive and a one-line change: the diff
	// shows a new snapshot, taken first.
	dir := projectCopy(t)
	bumpChart(t, dir, "airbyte", "2.2.0", "2.3.0")
	opts := stackOptions(t, "prod")
	opts.Dir = dir
	setIn("dataplatform:apps", "airbyte.chartVersion", "2.3.0")(t, opts)
	up, err := plan.Run(opts)
	require.NoError(t, err)
	d := plan.Compare(p, up)
	var added, removed []string
	for _, r := range d.Added {
		added = append(added, r.Name)
	}
	for _, r := range d.Removed {
		removed = append(removed, r.Name)
	}
	assert.Contains(t, added, "airbyte-before-airbyte-2-3-0")
	assert.Contains(t, removed, "airbyte-before-airbyte-2-2-0", "Pulumi forgets the old snapshot (retainOnDelete keeps it in AWS)")
	var versionChanged bool
	for _, c := range d.Changed {
		for _, f := range c.Fields {
			if c.Name == "airbyte" && c.Type == "kubernetes:helm.sh/v3:Release" && f.Path == "inputs.version" {
				versionChanged = f.New == "2.3.0"
			}
		}
	}
	assert.True(t, versionChanged)
	newSnap := findByName(t, up, "aws:rds/snapshot:Snapshot", "airbyte-before-airbyte-2-3-0")
	assert.Contains(t, release(t, up, "airbyte").Dependencies, newSnap.URN)
}

func TestRollingAnAppBackNamesANewSnapshot(t *testing.T) {
	// docs/upgrades.md: upgrade Airbyte, then set the version back. Each
	// up is an update of the previous one's state.
	dir := projectCopy(t)
	bumpChart(t, dir, "airbyte", "2.2.0", "2.3.0")
	run := func(version string, previous *plan.Plan) *plan.Plan {
		opts := stackOptions(t, "prod")
		opts.Dir = dir
		opts.Previous = previous
		setIn("dataplatform:apps", "airbyte.chartVersion", version)(t, opts)
		p, err := plan.Run(opts)
		require.NoError(t, err)
		return p
	}
	first := run("2.2.0", nil)
	upgraded := run("2.3.0", first)
	rolledBack := run("2.2.0", upgraded)
	kept := map[string]string{} // what stays in AWS, by the up that left it
	for name, p := range map[string]*plan.Plan{"the first install": first, "the upgrade": upgraded} {
		for _, r := range p.Records() {
			if r.Type == "aws:rds/snapshot:Snapshot" {
				kept[r.Outputs["dbSnapshotIdentifier"].StringValue()] = name
			}
		}
	}
	require.Len(t, kept, 3, "Airbyte's two snapshots, and Airflow's one: its version did not change")
	back := findRecordOutput(t, rolledBack, "aws:rds/snapshot:Snapshot", "airbyte-before-airbyte-2-2-0", "dbSnapshotIdentifier")
	assert.NotContains(t, kept, back, "RDS refuses a snapshot identifier in use: the rollback's snapshot is new")
	assert.Contains(t, back, "dataplatform-prod-airbyte-before-airbyte-2-2-0-")
	// What did not change is kept: Airflow's snapshot, and the passwords.
	assert.Equal(t,
		findRecordOutput(t, first, "aws:rds/snapshot:Snapshot", "airflow-before-airflow-1-21-0", "dbSnapshotIdentifier"),
		findRecordOutput(t, rolledBack, "aws:rds/snapshot:Snapshot", "airflow-before-airflow-1-21-0", "dbSnapshotIdentifier"))
	changed := plan.Compare(first, rolledBack).Changed
	require.Len(t, changed, 1, "besides the new snapshot, the rollback returns to the first install")
	assert.Equal(t, "airbyte-before-airbyte-2-2-0", changed[0].Name)
	// Negative control: without the upgrade's state (a label's ID made
	// from the label alone), the rollback would name the kept snapshot.
	forgetful := run("2.2.0", nil)
	assert.Contains(t, kept, findRecordOutput(t, forgetful, "aws:rds/snapshot:Snapshot", "airbyte-before-airbyte-2-2-0", "dbSnapshotIdentifier"))
}

func TestImageRepositories(t *testing.T) {
	p := stackPlan(t, "prod")
	repos := p.Find("aws:ecr/repository:Repository")
	require.Len(t, repos, 1)
	r := repos[0]
	assert.Equal(t, "dataplatform-prod/airflow-tasks", r.Inputs["name"])
	assert.Equal(t, "IMMUTABLE", r.Inputs["imageTagMutability"])
	assert.Equal(t, true, at(r.Inputs, "imageScanningConfiguration", "scanOnPush"))
	enc := r.Inputs["encryptionConfigurations"].([]any)[0].(map[string]any)
	assert.Equal(t, "KMS", enc["encryptionType"])
	assert.Equal(t, p.Outputs["platformKeyArn"], enc["kmsKey"])
	lc := p.Find("aws:ecr/lifecyclePolicy:LifecyclePolicy")
	require.Len(t, lc, 1)
	assert.Contains(t, mustJSON(t, lc[0].Inputs["policy"]), "untagged")
	assert.True(t, r.Protect, "prod repositories are protected")
	urls := p.Outputs["imageRepositories"].(map[string]any)
	assert.Equal(t, "123456789012.dkr.ecr.us-east-1.amazonaws.com/dataplatform-prod/airflow-tasks", urls["airflow-tasks"])
	// Nodes pull through their role.
	assert.Contains(t, mustJSON(t, p.Find("aws:iam/rolePolicyAttachment:RolePolicyAttachment")), "AmazonEC2ContainerRegistryReadOnly")

	// The Airflow image is overridable per stack.
	opts := stackOptions(t, "dev")
	setIn("dataplatform:apps", "airflow.image", urls["airflow-tasks"].(string)+":2026.11.1")(t, opts)
	dev, err := plan.Run(opts)
	require.NoError(t, err)
	img := values(t, dev, "airflow")["images"].(map[string]any)["airflow"].(map[string]any)
	assert.Equal(t, "2026.11.1", img["tag"])
	assert.True(t, strings.HasSuffix(img["repository"].(string), "/airflow-tasks"))
}

func TestDagsOnEFS(t *testing.T) {
	opts := stackOptions(t, "prod")
	setIn("dataplatform:apps", "airflow.dagsOnEfs", true)(t, opts)
	_, err := plan.Run(opts)
	require.Error(t, err, "the EFS CSI add-on version is required")
	assert.Contains(t, err.Error(), "dataplatform:cluster.addons.efsCsiDriver")

	setIn("dataplatform:cluster", "addons.efsCsiDriver", "v2.1.4-eksbuild.1")(t, opts)
	p, err := plan.Run(opts)
	require.NoError(t, err)
	fs := p.Find("aws:efs/fileSystem:FileSystem")
	require.Len(t, fs, 1)
	assert.Equal(t, true, fs[0].Inputs["encrypted"])
	assert.Equal(t, p.Outputs["platformKeyArn"], fs[0].Inputs["kmsKeyId"])
	assert.Len(t, p.Find("aws:efs/mountTarget:MountTarget"), 3, "a mount target in each private subnet")
	nfs := findByName(t, p, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "dag-storage-nfs-from-nodes")
	assert.Equal(t, 2049.0, nfs.Inputs["fromPort"])
	assert.NotContains(t, nfs.Inputs, "cidrIpv4", "only the nodes' security group reaches NFS")
	addon := findByName(t, p, "aws:eks/addon:Addon", "dag-storage-csi")
	assert.Equal(t, "aws-efs-csi-driver", addon.Inputs["addonName"])
	assert.NotEmpty(t, addon.Inputs["serviceAccountRoleArn"])
	sc := findByName(t, p, "kubernetes:storage.k8s.io/v1:StorageClass", "dag-storage")
	assert.Equal(t, "efs.csi.aws.com", sc.Inputs["provisioner"])
	pvc := findByName(t, p, "kubernetes:core/v1:PersistentVolumeClaim", "airflow-dags")
	assert.Equal(t, []any{"ReadWriteMany"}, at(pvc.Inputs, "spec", "accessModes"))
	v := values(t, p, "airflow")
	assert.Equal(t, map[string]any{"enabled": true, "existingClaim": "airflow-dags", "accessMode": "ReadWriteMany"}, at(v, "dags", "persistence"))
	assert.Contains(t, release(t, p, "airflow").Dependencies, pvc.URN)
	schema, defaults := airflowSchema(t)
	assert.NoError(t, schema.Validate(asJSON(t, coalesce(defaults, v))), "the EFS variant also passes the chart's schema")
	// And the policy still passes with it.
	assert.Empty(t, stackPlan(t, "dev").Find("aws:efs/fileSystem:FileSystem"), "EFS only when asked")
}

func TestProdSendsRetryableWorkToTheSpotPool(t *testing.T) {
	p := stackPlan(t, "prod")
	spot := map[string]any{"key": "dataplatform.io/spot", "operator": "Equal", "value": "true", "effect": "NoSchedule"}
	af := values(t, p, "airflow")
	assert.Equal(t, map[string]any{"karpenter.sh/nodepool": "spot"}, at(af, "workers", "kubernetes", "nodeSelector"), "task pods select the spot pool")
	assert.Equal(t, []any{spot}, at(af, "workers", "kubernetes", "tolerations"))
	ab := values(t, p, "airbyte")
	assert.Equal(t, map[string]any{"karpenter.sh/nodepool": "spot", "kubernetes.io/arch": "amd64"}, at(ab, "global", "jobs", "kube", "nodeSelector"),
		"sync jobs select the spot pool, on the architecture every connector is built for")
	assert.Equal(t, []any{spot}, at(ab, "global", "jobs", "kube", "tolerations"))
	// The long-running components stay on on-demand capacity.
	assert.NotContains(t, mustJSON(t, at(af, "scheduler")), "spot")
	assert.NotContains(t, mustJSON(t, at(ab, "server")), "spot")
	// dev has one pool and places nothing.
	assert.Nil(t, at(values(t, stackPlan(t, "dev"), "airflow"), "workers", "kubernetes", "nodeSelector"))
	// And the values still pass the chart's schema.
	schema, defaults := airflowSchema(t)
	assert.NoError(t, schema.Validate(asJSON(t, coalesce(defaults, af))))
}

// The nodes an idle platform runs on (cmd/plan -nodes, which the cluster
// test bed makes) are the ones the estimate prices: the core group at its
// desired size, and per NodePool the type and count its always-on pods
// need.
func TestTheIdleNodesAreTheOnesTheEstimatePrices(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		est := insights.EstimateCost(p, insights.Prices())
		text := ""
		for _, l := range est.Lines {
			text += l.What + "\n"
		}
		for _, n := range insights.Nodes(p, insights.Prices()) {
			if n.Count == 0 {
				continue
			}
			assert.Contains(t, text, fmt.Sprintf("%d × %s", n.Count, n.InstanceType), "%s: %s", stack, n.Source)
			assert.Less(t, n.AllocatableCPU, n.CPU)
		}
	}
}
