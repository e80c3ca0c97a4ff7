// Package observability provides Monitoring: the platform's metrics and
// logs path (CloudWatch Container Insights through its EKS add-on, with an
// IRSA role and a StatsD listener for Airflow), log groups with retention,
// and CloudWatch alarms on the databases, the Karpenter interruption queue
// and the nodes, sent to an encrypted SNS topic.
//
// Container Insights was chosen over a Prometheus stack: it is an EKS
// managed add-on (versions pinned like the others), needs no storage, no
// Grafana and no upgrades of its own to run, and its metrics are where the
// alarms already live.
package observability

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/database"
	"github.com/dataplatform/dataplatform/components/identity"
	"github.com/dataplatform/dataplatform/internal/iampolicy"
	"github.com/dataplatform/dataplatform/internal/tags"
	"github.com/dataplatform/dataplatform/stackconfig"
)

// TypeToken is the Pulumi type of the Monitoring component.
const TypeToken = "dataplatform:observability:Monitoring"

// Config is the plain configuration (dataplatform:observability); see stackconfig.Observability.
type Config = stackconfig.Observability

// AgentNamespace and AgentServiceAccount are where the CloudWatch agent runs.
const (
	AgentNamespace      = "amazon-cloudwatch"
	AgentServiceAccount = "cloudwatch-agent"
	// StatsdHost is the agent's service, which listens for StatsD on UDP 8125.
	StatsdHost = "cloudwatch-agent.amazon-cloudwatch.svc.cluster.local"
)

// ContainerInsightsLogGroups are the log groups the add-on writes to, under
// /aws/containerinsights/<cluster>/.
var ContainerInsightsLogGroups = []string{"application", "dataplane", "host", "performance"}

// MonitoringArgs are the inputs of NewMonitoring.
type MonitoringArgs struct {
	// Config sets alarm subscribers, thresholds and log retention; see stackconfig.Observability.
	Config Config
	// ClusterName and the cluster's IRSA provider. Required.
	ClusterName                 string
	OIDCProviderARN, OIDCIssuer pulumi.StringInput
	// AddonVersion pins amazon-cloudwatch-observability. Required.
	AddonVersion string
	// Nodes is what the add-on waits for (the core node group).
	Nodes []pulumi.Resource
	// KMSKeyARN encrypts the alarm topic; its key policy must let
	// CloudWatch use it (secrets.Secrets's platform key does). Required.
	KMSKeyARN pulumi.StringInput
	// Databases get CPU, storage and connection alarms (and lag on replicas).
	Databases []*database.Postgres
	// InterruptionQueueName is Karpenter's queue; its oldest message's age is watched.
	InterruptionQueueName pulumi.StringInput
	Tags                  map[string]string
}

// Monitoring is the metrics, logs and alarms of the platform.
type Monitoring struct {
	pulumi.ResourceState

	// TopicARN is the SNS topic every alarm notifies.
	TopicARN pulumi.StringOutput `pulumi:"topicArn"`
	// Alarms are the CloudWatch alarms, for tests and dashboards.
	Alarms []*cloudwatch.MetricAlarm
}

// NewMonitoring creates the add-on, the log groups, the topic and the alarms.
func NewMonitoring(ctx *pulumi.Context, name string, args *MonitoringArgs, opts ...pulumi.ResourceOption) (*Monitoring, error) {
	if args == nil {
		args = &MonitoringArgs{}
	}
	cfg := args.Config.WithDefaults()
	problems := cfg.Validate()
	if args.ClusterName == "" || args.KMSKeyARN == nil || args.OIDCProviderARN == nil || args.AddonVersion == "" {
		problems.Addf("args", "clusterName, addonVersion, kmsKeyArn and the OIDC provider are required")
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}
	m := &Monitoring{}
	if err := ctx.RegisterComponentResource(TypeToken, name, m, opts...); err != nil {
		return nil, err
	}
	b := &monitoringBuild{ctx: ctx, name: name, cfg: cfg, args: args, m: m, parent: pulumi.Parent(m), t: args.Tags}
	for _, step := range []func() error{b.containerInsights, b.alarmTopic, b.alarms} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	m.TopicARN = b.topic.Arn
	if err := ctx.RegisterResourceOutputs(m, pulumi.Map{"topicArn": b.topic.Arn}); err != nil {
		return nil, err
	}
	return m, nil
}

// monitoringBuild is NewMonitoring's work in named steps.
type monitoringBuild struct {
	ctx    *pulumi.Context
	name   string
	cfg    Config
	args   *MonitoringArgs
	m      *Monitoring
	parent pulumi.ResourceOption
	t      map[string]string
	topic  *sns.Topic
}

// containerInsights makes the add-on's log groups (with retention), its
// agent's IRSA role, and the add-on.
func (b *monitoringBuild) containerInsights() error {
	// The add-on's Fluent Bit creates these with no retention; creating them first sets it.
	var logGroups []pulumi.Resource
	for _, g := range ContainerInsightsLogGroups {
		lg, err := cloudwatch.NewLogGroup(b.ctx, b.name+"-"+g, &cloudwatch.LogGroupArgs{
			Name:            pulumi.Sprintf("/aws/containerinsights/%s/%s", b.args.ClusterName, g),
			RetentionInDays: pulumi.Int(b.cfg.LogRetentionDays),
			Tags:            tags.Named(b.t, b.args.ClusterName+"-"+g),
		}, b.parent)
		if err != nil {
			return err
		}
		logGroups = append(logGroups, lg)
	}
	role, err := identity.NewIrsaRole(b.ctx, b.name+"-agent", &identity.IrsaRoleArgs{
		OIDCProviderARN:   b.args.OIDCProviderARN,
		OIDCIssuer:        b.args.OIDCIssuer,
		ServiceAccounts:   []identity.ServiceAccount{{Namespace: AgentNamespace, Name: AgentServiceAccount}},
		ManagedPolicyARNs: []string{"arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"},
		Description:       "CloudWatch agent and Fluent Bit of EKS cluster " + b.args.ClusterName,
		Tags:              b.t,
	}, b.parent)
	if err != nil {
		return err
	}
	agentConfig, err := json.Marshal(map[string]any{"agent": map[string]any{"config": map[string]any{
		"logs": map[string]any{"metrics_collected": map[string]any{
			"kubernetes": map[string]any{"enhanced_container_insights": true},
		}},
		// Airflow sends its StatsD metrics here; they land in the CWAgent namespace.
		"metrics": map[string]any{"metrics_collected": map[string]any{
			"statsd": map[string]any{"service_address": ":8125", "metrics_collection_interval": 60, "metrics_aggregation_interval": 60},
		}},
	}}})
	if err != nil {
		return err
	}
	if _, err := awseks.NewAddon(b.ctx, b.name+"-container-insights", &awseks.AddonArgs{
		ClusterName:              pulumi.String(b.args.ClusterName),
		AddonName:                pulumi.String("amazon-cloudwatch-observability"),
		AddonVersion:             pulumi.String(b.args.AddonVersion),
		ServiceAccountRoleArn:    role.RoleARN,
		ConfigurationValues:      pulumi.String(string(agentConfig)),
		ResolveConflictsOnCreate: pulumi.String("OVERWRITE"),
		ResolveConflictsOnUpdate: pulumi.String("OVERWRITE"),
		Tags:                     tags.Named(b.t, b.args.ClusterName+"-container-insights"),
	}, b.parent, pulumi.DependsOn(append(append(role.Ready, logGroups...), b.args.Nodes...))); err != nil {
		return err
	}

	return nil
}

// alarmTopic makes the encrypted topic alarms publish to, and its e-mail
// subscriptions.
func (b *monitoringBuild) alarmTopic() error {
	var err error
	b.topic, err = sns.NewTopic(b.ctx, b.name+"-alarms", &sns.TopicArgs{
		Name:           pulumi.Sprintf("%s-alarms", b.args.ClusterName),
		KmsMasterKeyId: b.args.KMSKeyARN,
		Tags:           tags.Named(b.t, b.args.ClusterName+"-alarms"),
	}, b.parent)
	if err != nil {
		return err
	}
	if _, err := sns.NewTopicPolicy(b.ctx, b.name+"-alarms", &sns.TopicPolicyArgs{
		Arn: b.topic.Arn,
		Policy: iampolicy.Document{Statements: []iampolicy.Statement{
			{
				Sid:        "CloudWatchAlarmsPublish",
				Principals: []iampolicy.Principal{{Type: "Service", Identifiers: iampolicy.Strings("cloudwatch.amazonaws.com")}},
				Actions:    []string{"sns:Publish"},
				Resources:  iampolicy.Inputs(b.topic.Arn),
			},
			iampolicy.DenyInsecureTransport("sns:Publish", b.topic.Arn),
		}}.JSON(),
	}, b.parent); err != nil {
		return err
	}
	for i, e := range b.cfg.AlarmEmails {
		if _, err := sns.NewTopicSubscription(b.ctx, fmt.Sprintf("%s-email-%d", b.name, i), &sns.TopicSubscriptionArgs{
			Topic:    b.topic.Arn,
			Protocol: pulumi.String("email"),
			Endpoint: pulumi.String(e),
		}, b.parent); err != nil {
			return err
		}
	}

	return nil
}

// alarm makes one alarm on the topic.
func (b *monitoringBuild) alarm(suffix, description, namespace, metric, stat, op string, threshold pulumi.Float64Input, periods int, dims pulumi.StringMapInput) error {
	a, err := cloudwatch.NewMetricAlarm(b.ctx, b.name+"-"+suffix, &cloudwatch.MetricAlarmArgs{
		AlarmDescription:   pulumi.String(description),
		Namespace:          pulumi.String(namespace),
		MetricName:         pulumi.String(metric),
		Statistic:          pulumi.String(stat),
		ComparisonOperator: pulumi.String(op),
		Threshold:          threshold,
		Period:             pulumi.Int(300),
		EvaluationPeriods:  pulumi.Int(periods),
		Dimensions:         dims,
		TreatMissingData:   pulumi.String("missing"),
		AlarmActions:       pulumi.Array{b.topic.Arn},
		OkActions:          pulumi.Array{b.topic.Arn},
		Tags:               tags.Named(b.t, b.args.ClusterName+"-"+suffix),
	}, b.parent)
	if err == nil {
		b.m.Alarms = append(b.m.Alarms, a)
	}
	return err
}

// alarms makes the databases', Karpenter's queue's and the nodes' alarms.
func (b *monitoringBuild) alarms() error {
	a := b.cfg.Alarms
	for _, db := range b.args.Databases {
		dbs := []struct {
			suffix  string
			id      pulumi.StringInput
			replica bool
		}{{db.Label + "-db", db.Instance.Identifier, false}}
		if db.HasReplica {
			dbs = append(dbs, struct {
				suffix  string
				id      pulumi.StringInput
				replica bool
			}{db.Label + "-db-replica", db.ReplicaIdentifier, true})
		}
		for _, d := range dbs {
			dims := pulumi.StringMap{"DBInstanceIdentifier": d.id}
			if err := b.alarm(d.suffix+"-cpu", fmt.Sprintf("%s: CPU above %d%% for 15 minutes", d.suffix, a.DatabaseCPUPercent),
				"AWS/RDS", "CPUUtilization", "Average", "GreaterThanThreshold", pulumi.Float64(float64(a.DatabaseCPUPercent)), 3, dims); err != nil {
				return err
			}
			freeBytes := db.AllocatedStorageGiB * 1024 * 1024 * 1024 * float64(a.DatabaseFreeStoragePercent) / 100
			if err := b.alarm(d.suffix+"-free-storage", fmt.Sprintf("%s: free storage below %d%% of its allocation", d.suffix, a.DatabaseFreeStoragePercent),
				"AWS/RDS", "FreeStorageSpace", "Minimum", "LessThanThreshold", pulumi.Float64(freeBytes), 1, dims); err != nil {
				return err
			}
			if err := b.alarm(d.suffix+"-connections", fmt.Sprintf("%s: more than %d connections for 15 minutes", d.suffix, a.DatabaseConnections),
				"AWS/RDS", "DatabaseConnections", "Average", "GreaterThanThreshold", pulumi.Float64(float64(a.DatabaseConnections)), 3, dims); err != nil {
				return err
			}
			if d.replica {
				if err := b.alarm(d.suffix+"-lag", fmt.Sprintf("%s: replica lag above %d seconds for 15 minutes", d.suffix, a.ReplicaLagSeconds),
					"AWS/RDS", "ReplicaLag", "Maximum", "GreaterThanThreshold", pulumi.Float64(float64(a.ReplicaLagSeconds)), 3, dims); err != nil {
					return err
				}
			}
		}
	}
	if b.args.InterruptionQueueName != nil {
		if err := b.alarm("karpenter-queue-age", fmt.Sprintf("Karpenter's interruption queue holds a message older than %d seconds: nodes are not drained ahead of interruptions", a.QueueAgeSeconds),
			"AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum", "GreaterThanThreshold", pulumi.Float64(float64(a.QueueAgeSeconds)), 1,
			pulumi.StringMap{"QueueName": b.args.InterruptionQueueName}); err != nil {
			return err
		}
	}
	if err := b.alarm("failed-nodes", "A node of the cluster has failed (Container Insights cluster_failed_node_count)",
		"ContainerInsights", "cluster_failed_node_count", "Maximum", "GreaterThanThreshold", pulumi.Float64(0), 2,
		pulumi.StringMap{"ClusterName": pulumi.String(b.args.ClusterName)}); err != nil {
		return err
	}
	return nil
}
