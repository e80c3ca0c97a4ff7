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
	"github.com/dataplatform/dataplatform/spec"
)

// TypeToken is the Pulumi type of the Monitoring component.
const TypeToken = "dataplatform:observability:Monitoring"

// Config is the plain configuration (dataplatform:observability); see spec.Observability.
type Config = spec.Observability

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
	// Config sets alarm subscribers, thresholds and log retention; see spec.Observability.
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
	parent := pulumi.Parent(m)
	t := args.Tags

	// The add-on's Fluent Bit creates these with no retention; creating them first sets it.
	var logGroups []pulumi.Resource
	for _, g := range ContainerInsightsLogGroups {
		lg, err := cloudwatch.NewLogGroup(ctx, name+"-"+g, &cloudwatch.LogGroupArgs{
			Name:            pulumi.Sprintf("/aws/containerinsights/%s/%s", args.ClusterName, g),
			RetentionInDays: pulumi.Int(cfg.LogRetentionDays),
			Tags:            tags.Named(t, args.ClusterName+"-"+g),
		}, parent)
		if err != nil {
			return nil, err
		}
		logGroups = append(logGroups, lg)
	}
	role, err := identity.NewIrsaRole(ctx, name+"-agent", &identity.IrsaRoleArgs{
		OIDCProviderARN:   args.OIDCProviderARN,
		OIDCIssuer:        args.OIDCIssuer,
		ServiceAccounts:   []identity.ServiceAccount{{Namespace: AgentNamespace, Name: AgentServiceAccount}},
		ManagedPolicyARNs: []string{"arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"},
		Description:       "CloudWatch agent and Fluent Bit of EKS cluster " + args.ClusterName,
		Tags:              t,
	}, parent)
	if err != nil {
		return nil, err
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
		return nil, err
	}
	if _, err := awseks.NewAddon(ctx, name+"-container-insights", &awseks.AddonArgs{
		ClusterName:              pulumi.String(args.ClusterName),
		AddonName:                pulumi.String("amazon-cloudwatch-observability"),
		AddonVersion:             pulumi.String(args.AddonVersion),
		ServiceAccountRoleArn:    role.RoleARN,
		ConfigurationValues:      pulumi.String(string(agentConfig)),
		ResolveConflictsOnCreate: pulumi.String("OVERWRITE"),
		ResolveConflictsOnUpdate: pulumi.String("OVERWRITE"),
		Tags:                     tags.Named(t, args.ClusterName+"-container-insights"),
	}, parent, pulumi.DependsOn(append(append(role.Ready, logGroups...), args.Nodes...))); err != nil {
		return nil, err
	}

	topic, err := sns.NewTopic(ctx, name+"-alarms", &sns.TopicArgs{
		Name:           pulumi.Sprintf("%s-alarms", args.ClusterName),
		KmsMasterKeyId: args.KMSKeyARN,
		Tags:           tags.Named(t, args.ClusterName+"-alarms"),
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := sns.NewTopicPolicy(ctx, name+"-alarms", &sns.TopicPolicyArgs{
		Arn: topic.Arn,
		Policy: iampolicy.Document{Statements: []iampolicy.Statement{
			{
				Sid:        "CloudWatchAlarmsPublish",
				Principals: []iampolicy.Principal{{Type: "Service", Identifiers: iampolicy.Strings("cloudwatch.amazonaws.com")}},
				Actions:    []string{"sns:Publish"},
				Resources:  iampolicy.Inputs(topic.Arn),
			},
			iampolicy.DenyInsecureTransport("sns:Publish", topic.Arn),
		}}.JSON(),
	}, parent); err != nil {
		return nil, err
	}
	for i, e := range cfg.AlarmEmails {
		if _, err := sns.NewTopicSubscription(ctx, fmt.Sprintf("%s-email-%d", name, i), &sns.TopicSubscriptionArgs{
			Topic:    topic.Arn,
			Protocol: pulumi.String("email"),
			Endpoint: pulumi.String(e),
		}, parent); err != nil {
			return nil, err
		}
	}

	alarm := func(suffix, description, namespace, metric, stat, op string, threshold pulumi.Float64Input, periods int, dims pulumi.StringMapInput) error {
		a, err := cloudwatch.NewMetricAlarm(ctx, name+"-"+suffix, &cloudwatch.MetricAlarmArgs{
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
			AlarmActions:       pulumi.Array{topic.Arn},
			OkActions:          pulumi.Array{topic.Arn},
			Tags:               tags.Named(t, args.ClusterName+"-"+suffix),
		}, parent)
		if err == nil {
			m.Alarms = append(m.Alarms, a)
		}
		return err
	}
	a := cfg.Alarms
	for _, db := range args.Databases {
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
			if err := alarm(d.suffix+"-cpu", fmt.Sprintf("%s: CPU above %d%% for 15 minutes", d.suffix, a.DatabaseCPUPercent),
				"AWS/RDS", "CPUUtilization", "Average", "GreaterThanThreshold", pulumi.Float64(float64(a.DatabaseCPUPercent)), 3, dims); err != nil {
				return nil, err
			}
			freeBytes := db.AllocatedStorageGiB * 1024 * 1024 * 1024 * float64(a.DatabaseFreeStoragePercent) / 100
			if err := alarm(d.suffix+"-free-storage", fmt.Sprintf("%s: free storage below %d%% of its allocation", d.suffix, a.DatabaseFreeStoragePercent),
				"AWS/RDS", "FreeStorageSpace", "Minimum", "LessThanThreshold", pulumi.Float64(freeBytes), 1, dims); err != nil {
				return nil, err
			}
			if err := alarm(d.suffix+"-connections", fmt.Sprintf("%s: more than %d connections for 15 minutes", d.suffix, a.DatabaseConnections),
				"AWS/RDS", "DatabaseConnections", "Average", "GreaterThanThreshold", pulumi.Float64(float64(a.DatabaseConnections)), 3, dims); err != nil {
				return nil, err
			}
			if d.replica {
				if err := alarm(d.suffix+"-lag", fmt.Sprintf("%s: replica lag above %d seconds for 15 minutes", d.suffix, a.ReplicaLagSeconds),
					"AWS/RDS", "ReplicaLag", "Maximum", "GreaterThanThreshold", pulumi.Float64(float64(a.ReplicaLagSeconds)), 3, dims); err != nil {
					return nil, err
				}
			}
		}
	}
	if args.InterruptionQueueName != nil {
		if err := alarm("karpenter-queue-age", fmt.Sprintf("Karpenter's interruption queue holds a message older than %d seconds: nodes are not drained ahead of interruptions", a.QueueAgeSeconds),
			"AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum", "GreaterThanThreshold", pulumi.Float64(float64(a.QueueAgeSeconds)), 1,
			pulumi.StringMap{"QueueName": args.InterruptionQueueName}); err != nil {
			return nil, err
		}
	}
	if err := alarm("failed-nodes", "A node of the cluster has failed (Container Insights cluster_failed_node_count)",
		"ContainerInsights", "cluster_failed_node_count", "Maximum", "GreaterThanThreshold", pulumi.Float64(0), 2,
		pulumi.StringMap{"ClusterName": pulumi.String(args.ClusterName)}); err != nil {
		return nil, err
	}
	m.TopicARN = topic.Arn
	if err := ctx.RegisterResourceOutputs(m, pulumi.Map{"topicArn": topic.Arn}); err != nil {
		return nil, err
	}
	return m, nil
}
