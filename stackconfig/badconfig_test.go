package stackconfig_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/internal/configedit"
	"github.com/dataplatform/dataplatform/stackconfig"
)

// Bad stack configs, each refused by Parse (and so by the program, before
// any resource is registered) with a message naming the field, the value
// and what is allowed. These run here, without the cloud SDKs; the tests
// package keeps the rows only the program can refuse (zones, the CA bundle,
// the account's partition) and checks that Parse's refusals stop it.

// options is the dev stack's config for a row to break.
type options struct{ Config map[string]string }

func setIn(key, path string, value any) func(t *testing.T, opts options) {
	return func(t *testing.T, opts options) { require.NoError(t, configedit.SetIn(opts.Config, key, path, value)) }
}

// setNetwork changes one key of the dataplatform:network section.
func setNetwork(key string, value any) func(t *testing.T, opts options) {
	return setIn("dataplatform:network", key, value)
}

// setPool changes one key of the first Karpenter node pool.
func setPool(key string, value any) func(t *testing.T, opts options) {
	return setIn("dataplatform:karpenter", "nodePools.0."+key, value)
}

func setRaw(key, value string) func(t *testing.T, opts options) {
	return func(t *testing.T, opts options) { opts.Config[key] = value }
}

// badConfig is one invalid stack config: how to break the dev stack's
// config, and the fragments its error message must hold (the field, the value
// and what is allowed).
type badConfig struct {
	name   string
	break_ func(t *testing.T, opts options)
	want   []string
}

var badConfigs = []badConfig{
	{"cidr prefix out of range", setNetwork("cidrBlock", "10.0.0.0/33"),
		[]string{"dataplatform:network.cidrBlock", `"10.0.0.0/33"`, "IPv4 CIDR"}},
	{"cidr not a network address", setNetwork("cidrBlock", "10.0.0.1/16"),
		[]string{"dataplatform:network.cidrBlock", `"10.0.0.1/16"`, `did you mean "10.0.0.0/16"`}},
	{"cidr too large", setNetwork("cidrBlock", "10.0.0.0/8"),
		[]string{"dataplatform:network.cidrBlock", "/16 to /24", `"10.0.0.0/8"`}},
	{"too many zones for the cidr", func(t *testing.T, opts options) {
		setNetwork("cidrBlock", "10.0.0.0/24")(t, opts)
		setNetwork("azCount", 6)(t, opts)
	}, []string{"dataplatform:network.cidrBlock", "subnets do not fit", "6 availability zones need", "10.0.0.0/24 holds 256"}},
	{"unknown nat strategy", setNetwork("natStrategy", "Double"),
		[]string{"dataplatform:network.natStrategy", `"Double"`, `one of "None", "Single", "OnePerAz", "Instance"`}},
	{"nat instance type without a nat instance", setNetwork("natStrategy", "Single"),
		[]string{"dataplatform:network.natInstanceType", `only with natStrategy "Instance"`, `"Single"`}},
	{"nat instance type not an instance type", setNetwork("natInstanceType", "nano"),
		[]string{"dataplatform:network.natInstanceType", "EC2 instance type", `"nano"`}},
	{"missing region", func(t *testing.T, opts options) { delete(opts.Config, "aws:region") },
		[]string{"aws:region", "required"}},
	{"wrong type", setNetwork("azCount", "two"),
		[]string{"dataplatform:network.azCount", "want a whole number", `"two"`}},
	{"unknown key", setNetwork("cidr", "10.0.0.0/16"),
		[]string{"dataplatform:network.cidr", "unknown key", "cidrBlock"}},
	{"one zone", setNetwork("azCount", 1),
		[]string{"dataplatform:network.azCount", "2 to 6", "got 1"}},
	{"unknown interface endpoint", setNetwork("interfaceEndpoints", []string{"sts", "s3"}),
		[]string{"dataplatform:network.interfaceEndpoints[1]", `"s3"`, `"ecr.api"`}},
	{"retention CloudWatch refuses", setNetwork("flowLogs", map[string]any{"retentionDays": 10}),
		[]string{"dataplatform:network.flowLogs.retentionDays", "got 10", "14"}},
	{"subnet prefix too small", setNetwork("subnets", map[string]any{"privatePrefixLength": 30}),
		[]string{"dataplatform:network.subnets.privatePrefixLength", "got 30", "to 28"}},
	{"bad zone name", setNetwork("availabilityZones", []string{"useast1a", "us-east-1b"}),
		[]string{"dataplatform:network.availabilityZones[0]", `"useast1a"`}},
	{"zone listed twice", setNetwork("availabilityZones", []string{"us-east-1a", "us-east-1a"}),
		[]string{"dataplatform:network.availabilityZones[1]", "listed twice"}},
	{"network is not an object", setRaw("dataplatform:network", "yes"),
		[]string{"dataplatform:network", "want an object", `"yes"`}},
	{"bad platform name", setRaw("dataplatform:name", "Data_Platform"),
		[]string{"dataplatform:name", `"Data_Platform"`, "lowercase"}},
	// RDS refuses identifiers with two hyphens in a row (and every RDS name
	// starts with the platform's).
	{"platform name with two hyphens in a row", setRaw("dataplatform:name", "data--platform"),
		[]string{"dataplatform:name", `"data--platform"`, "single hyphens"}},
	{"reserved tag prefix", setRaw("dataplatform:tags", `{"aws:owner":"me"}`),
		[]string{"dataplatform:tags.aws:owner", "reserved"}},
	{"tag value of the wrong type", setRaw("dataplatform:tags", `{"Owner":3}`),
		[]string{"dataplatform:tags.Owner", "want a string", "3"}},
}

var computeBadConfigs = []badConfig{
	{"unsupported kubernetes version", setIn("dataplatform:cluster", "kubernetesVersion", "1.20"),
		[]string{"dataplatform:cluster.kubernetesVersion", `"1.20"`, `"1.35"`}},
	{"missing kubernetes version", setIn("dataplatform:cluster", "kubernetesVersion", nil),
		[]string{"dataplatform:cluster.kubernetesVersion", "required"}},
	{"kube-proxy of another minor", setIn("dataplatform:cluster", "addons.kubeProxy", "v1.34.1-eksbuild.2"),
		[]string{"dataplatform:cluster.addons.kubeProxy", `"v1.34.1-eksbuild.2"`, "v1.35.x"}},
	{"add-on version malformed", setIn("dataplatform:cluster", "addons.coreDns", "latest"),
		[]string{"dataplatform:cluster.addons.coreDns", `"latest"`, "eksbuild"}},
	{"api open to the world", setIn("dataplatform:cluster", "endpoint.publicAccessCidrs", []string{"0.0.0.0/0"}),
		[]string{"dataplatform:cluster.endpoint.publicAccessCidrs[0]", `"0.0.0.0/0"`, "whole internet"}},
	{"admin not a role arn", setIn("dataplatform:cluster", "adminRoleArns", []string{"alice"}),
		[]string{"dataplatform:cluster.adminRoleArns[0]", `"alice"`, "IAM role ARN"}},
	{"instance type of the other architecture", setIn("dataplatform:cluster", "coreNodeGroup.instanceTypes", []string{"m7i.large"}),
		[]string{"dataplatform:cluster.coreNodeGroup.instanceTypes[0]", `"m7i.large" is amd64`, "arm64"}},
	{"node group sizes out of order", setIn("dataplatform:cluster", "coreNodeGroup.minSize", 5),
		[]string{"dataplatform:cluster.coreNodeGroup", "minSize <= desiredSize <= maxSize", "got 5, 1, 2"}},
	{"missing chart version", setIn("dataplatform:karpenter", "chartVersion", nil),
		[]string{"dataplatform:karpenter.chartVersion", "required"}},
	{"more karpenter replicas than core nodes", setIn("dataplatform:karpenter", "replicas", 3),
		[]string{"dataplatform:karpenter.replicas", "3 replicas need 3 core nodes", "minSize is 1"}},
	{"unknown capacity type", setPool("capacityTypes", []string{"preemptible"}),
		[]string{"dataplatform:karpenter.nodePools[0].capacityTypes[0]", `"preemptible"`, `"spot"`}},
	{"node pool without a cpu limit", setPool("cpuLimit", 0),
		[]string{"dataplatform:karpenter.nodePools[0].cpuLimit", "bounds the bill"}},
	{"expireAfter in days", setPool("expireAfter", "30d"),
		[]string{"dataplatform:karpenter.nodePools[0].expireAfter", `"30d"`, `"720h"`}},
	{"weight out of range", setPool("weight", 101),
		[]string{"dataplatform:karpenter.nodePools[0].weight", "0 to 100", "101"}},
	{"unknown taint effect", setPool("taints", []map[string]any{{"key": "a", "effect": "Never"}}),
		[]string{"dataplatform:karpenter.nodePools[0].taints[0].effect", `"Never"`, `"NoSchedule"`}},
	{"no node pools", setIn("dataplatform:karpenter", "nodePools", []any{}),
		[]string{"dataplatform:karpenter.nodePools", "at least one node pool"}},
	{"unpinnable ami", setIn("dataplatform:karpenter", "amiAlias", "al2@latest"),
		[]string{"dataplatform:karpenter.amiAlias", `"al2@latest"`, "al2023"}},
}

var dataBadConfigs = []badConfig{
	{"missing engine version", setIn("dataplatform:database", "engineVersion", nil),
		[]string{"dataplatform:database.engineVersion", "required"}},
	{"engine version of another engine", setIn("dataplatform:database", "engineVersion", "8.0.35"),
		[]string{"dataplatform:database.engineVersion", `"8.0.35"`, "PostgreSQL major version"}},
	// RDS upgrades minor versions itself; a pinned minor version would make
	// the next `pulumi up` try to downgrade.
	{"a pinned minor engine version", setIn("dataplatform:database", "engineVersion", "17.6"),
		[]string{"dataplatform:database.engineVersion", `"17.6"`, `the major version only, "17"`, "downgrade"}},
	{"a private endpoint nobody outside the VPC can deploy through", func(t *testing.T, opts options) {
		setIn("dataplatform:cluster", "endpoint", map[string]any{"publicAccess": false})(t, opts)
	}, []string{"dataplatform:cluster.endpoint", "must reach it", "publicAccessCidrs", "deployerInVpc"}},
	{"a deployer inside a VPC that does not exist yet", setIn("dataplatform:cluster", "endpoint", map[string]any{"publicAccess": false, "deployerInVpc": true}),
		[]string{"dataplatform:cluster.endpoint.deployerInVpc", "does not exist when the first deploy starts", "network.existing"}},
	{"an endpoint open to a /8", setIn("dataplatform:cluster", "endpoint", map[string]any{"publicAccess": true, "publicAccessCidrs": []string{"10.0.0.0/8"}}),
		[]string{"dataplatform:cluster.endpoint.publicAccessCidrs[0]", `"10.0.0.0/8"`, "/16 or narrower"}},
	{"instance class without db prefix", setIn("dataplatform:database", "instanceClass", "t4g.micro"),
		[]string{"dataplatform:database.instanceClass", `"t4g.micro"`, "db.t4g.micro"}},
	{"backups kept too long", setIn("dataplatform:database", "backupRetentionDays", 40),
		[]string{"dataplatform:database.backupRetentionDays", "1 to 35", "40"}},
	{"storage ceiling below the floor", setIn("dataplatform:database", "maxAllocatedStorageGiB", 10),
		[]string{"dataplatform:database.maxAllocatedStorageGiB", "at least allocatedStorageGiB"}},
	{"monitoring interval RDS refuses", setIn("dataplatform:database", "monitoringIntervalSeconds", 7),
		[]string{"dataplatform:database.monitoringIntervalSeconds", "got 7"}},
	{"protected but deletable", func(t *testing.T, opts options) {
		setIn("dataplatform:database", "protect", true)(t, opts)
		setIn("dataplatform:database", "deletionProtection", false)(t, opts)
	}, []string{"dataplatform:database.deletionProtection", "protect is true"}},
	{"unknown log export", setIn("dataplatform:database", "logExports", []string{"audit"}),
		[]string{"dataplatform:database.logExports[0]", `"audit"`, `"postgresql"`}},
	{"bucket both force-destroyed and protected", setIn("dataplatform:storage", "protect", true),
		[]string{"dataplatform:storage.forceDestroy", "protect"}},
	{"logs kept forever", setIn("dataplatform:storage", "logExpirationDays", 5000),
		[]string{"dataplatform:storage.logExpirationDays", "1 to 3650", "5000"}},
	{"versioning not a bool", setIn("dataplatform:storage", "versioning", "yes"),
		[]string{"dataplatform:storage.versioning", "want true or false", `"yes"`}},
	{"secret recovery window AWS refuses", setIn("dataplatform:secrets", "recoveryWindowDays", 3),
		[]string{"dataplatform:secrets.recoveryWindowDays", "7 to 30", "got 3"}},
}

var appsBadConfigs = []badConfig{
	{"secret sync without chart version", setIn("dataplatform:apps", "secretSync.chartVersion", nil),
		[]string{"dataplatform:apps.secretSync.chartVersion", "required"}},
	{"refresh interval in words", setIn("dataplatform:apps", "secretSync.refreshInterval", "daily"),
		[]string{"dataplatform:apps.secretSync.refreshInterval", `"daily"`, `"15m"`}},
	{"unknown load balancer scheme", setIn("dataplatform:apps", "ingress.scheme", "public"),
		[]string{"dataplatform:apps.ingress.scheme", `"public"`, `"internet-facing"`}},
	{"internet-facing with no source blocks", setIn("dataplatform:apps", "ingress.scheme", "internet-facing"),
		[]string{"dataplatform:apps.ingress.inboundCidrs", "required for an internet-facing"}},
	{"apps open to the world", func(t *testing.T, opts options) {
		setIn("dataplatform:apps", "ingress.scheme", "internet-facing")(t, opts)
		setIn("dataplatform:apps", "ingress.inboundCidrs", []string{"0.0.0.0/0"})(t, opts)
	}, []string{"dataplatform:apps.ingress.inboundCidrs[0]", `"0.0.0.0/0"`, "whole internet"}},
	{"certificate that is not ACM", setIn("dataplatform:apps", "ingress.certificateArn", "arn:aws:iam::123456789012:server-certificate/x"),
		[]string{"dataplatform:apps.ingress.certificateArn", "ACM certificate ARN"}},
	{"airbyte without host", setIn("dataplatform:apps", "airbyte.host", nil),
		[]string{"dataplatform:apps.airbyte.host", "required", `""`}},
	{"airbyte host with underscore", setIn("dataplatform:apps", "airbyte.host", "air_byte.example.com"),
		[]string{"dataplatform:apps.airbyte.host", `"air_byte.example.com"`}},
	{"registry given as a URL", setIn("dataplatform:apps", "airbyte.imageRegistry", "https://registry.example.com"),
		[]string{"dataplatform:apps.airbyte.imageRegistry", `"https://registry.example.com"`}},
	{"mirrored connectors without a mirror", setIn("dataplatform:apps", "airbyte.mirrorConnectors", true),
		[]string{"dataplatform:apps.airbyte.mirrorConnectors", "needs imageRegistry"}},
	{"job memory in GB", setIn("dataplatform:apps", "airbyte.jobs.memoryLimit", "2GB"),
		[]string{"dataplatform:apps.airbyte.jobs.memoryLimit", `"2GB"`, `"2Gi"`}},
	{"airflow chart version latest", setIn("dataplatform:apps", "airflow.chartVersion", "latest"),
		[]string{"dataplatform:apps.airflow.chartVersion", `"latest"`, `"1.21.0"`}},
	{"git-sync over ssh", setIn("dataplatform:apps", "airflow.gitSync.repo", "git@github.com:example-org/dags.git"),
		[]string{"dataplatform:apps.airflow.gitSync.repo", "https://", `"git@github.com:example-org/dags.git"`}},
	{"admin e-mail without domain", setIn("dataplatform:apps", "airflow.admin.email", "nobody"),
		[]string{"dataplatform:apps.airflow.admin.email", `"nobody"`}},
	{"airflow image without tag", setIn("dataplatform:apps", "airflow.image", "apache/airflow"),
		[]string{"dataplatform:apps.airflow.image", `"apache/airflow"`, "repository:tag"}},
	{"both apps in one namespace", setIn("dataplatform:apps", "airflow.namespace", "airbyte"),
		[]string{"dataplatform:apps.airflow.namespace", `"airbyte"`, "its own"}},
	{"misspelt section", setRaw("dataplatform:netwrok", `{"cidrBlock":"10.0.0.0/16"}`),
		[]string{"dataplatform:netwrok", "unknown key", "dataplatform:network"}},
	{"misspelt app section", setIn("dataplatform:apps", "airbyt", map[string]any{}),
		[]string{"dataplatform:apps.airbyt", "unknown key", "airbyte"}},
	{"jobs sent to a pool that does not exist", setIn("dataplatform:apps", "airbyte.jobNodePool", "gpu"),
		[]string{"dataplatform:apps.airbyte.jobNodePool", `"gpu"`, `"default"`}},
	{"waiver without a reason", setRaw("dataplatform:policy", `{"waivers":[{"rule":"RDS-005","reason":""}]}`),
		[]string{"dataplatform:policy.waivers[0].reason", "at least 10 characters"}},
	{"external account without a reason", setRaw("dataplatform:policy", `{"externalAccounts":[{"account":"21098765432","reason":""}]}`),
		[]string{"dataplatform:policy.externalAccounts[0].account", `"21098765432"`, "12-digit", "dataplatform:policy.externalAccounts[0].reason"}},
	{"waiver of a malformed rule", setRaw("dataplatform:policy", `{"waivers":[{"rule":"multi-az","reason":"dev does not need a standby"}]}`),
		[]string{"dataplatform:policy.waivers[0].rule", `"multi-az"`, `"RDS-005"`}},
}

// parse runs what the program runs on its config before anything else:
// the misspelt-key check over every key, then Parse.
func parse(st *configedit.Stack, stack string) error {
	keys := make([]string, 0, len(st.Config))
	for k := range st.Config {
		keys = append(keys, k)
	}
	if err := stackconfig.CheckKeys(keys); err != nil {
		return err
	}
	_, err := stackconfig.Parse(st.Project, stack, func(k string) string { return st.Config[k] })
	return err
}

func TestBadConfigIsRefusedWithTheFieldTheValueAndWhatIsAllowed(t *testing.T) {
	var all []badConfig
	for _, set := range [][]badConfig{badConfigs, computeBadConfigs, dataBadConfigs, appsBadConfigs} {
		all = append(all, set...)
	}
	require.GreaterOrEqual(t, len(all), 40)
	for _, c := range all {
		t.Run(c.name, func(t *testing.T) {
			st, err := configedit.Read("..", "dev")
			require.NoError(t, err)
			require.NoError(t, parse(st, "dev"), "the dev stack itself must parse")
			c.break_(t, options{Config: st.Config})
			err = parse(st, "dev")
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// The guardrails over the cluster's objects keep the checks' IDs, and a
// stack may waive them by those IDs.
func TestAWaiverMayNameAnObjectGuardrail(t *testing.T) {
	st, err := configedit.Read("..", "dev")
	require.NoError(t, err)
	setRaw("dataplatform:policy", `{"waivers":[{"rule":"k8s/waits","reason":"dev accepts a slower first deploy"}]}`)(t, options{Config: st.Config})
	require.NoError(t, parse(st, "dev"))
	setRaw("dataplatform:policy", `{"waivers":[{"rule":"k8s/Waits!","reason":"dev accepts a slower first deploy"}]}`)(t, options{Config: st.Config})
	require.ErrorContains(t, parse(st, "dev"), `want a rule ID such as "RDS-005" or "k8s/waits", got "k8s/Waits!"`)
}
