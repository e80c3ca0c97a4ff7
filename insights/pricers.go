package insights

import (
	"fmt"

	"github.com/dataplatform/dataplatform/plan"
)

// pricers price each resource type that costs money when idle; other
// types cost nothing. A pricer adds one line per cost (costing.add).
var pricers = map[string]func(c *costing, r plan.Resource){
	"aws:eks/cluster:Cluster": func(c *costing, r plan.Resource) {
		h, add := c.hours, c.add
		add(r, "EKS control plane", []string{"eks.cluster.hour"}, func(v map[string]float64) float64 { return h * v["eks.cluster.hour"] })
	},
	"aws:eks/nodeGroup:NodeGroup": func(c *costing, r plan.Resource) {
		in, h, add := r.Inputs, c.hours, c.add
		types := plan.Strings(in["instanceTypes"])
		n := num(at(in, "scalingConfig", "desiredSize"))
		disk := 20.0
		for _, d := range r.Dependencies {
			if lt, ok := c.byURN[d]; ok && lt.Type == "aws:ec2/launchTemplate:LaunchTemplate" {
				if bdm, ok := lt.Inputs["blockDeviceMappings"].([]any); ok && len(bdm) > 0 {
					disk = num(at(bdm[0].(map[string]any), "ebs", "volumeSize"))
				}
			}
		}
		if len(types) == 0 {
			return
		}
		key := "ec2.instance." + types[0] + ".hour"
		add(r, fmt.Sprintf("%.0f × %s on-demand, %.0f GiB gp3 each", n, types[0], disk), []string{key, "ec2.ebs.gp3.gbmonth"},
			func(v map[string]float64) float64 { return n * (h*v[key] + disk*v["ec2.ebs.gp3.gbmonth"]) })
	},
	"aws:ec2/natGateway:NatGateway": func(c *costing, r plan.Resource) {
		h, add := c.hours, c.add
		add(r, "NAT gateway (hours only)", []string{"ec2.natgateway.hour"}, func(v map[string]float64) float64 { return h * v["ec2.natgateway.hour"] })
	},
	"aws:ec2/instance:Instance": func(c *costing, r plan.Resource) {
		in, h, add := r.Inputs, c.hours, c.add
		typ := str(in, "instanceType")
		disk := num(at(in, "rootBlockDevice", "volumeSize"))
		key := "ec2.instance." + typ + ".hour"
		add(r, fmt.Sprintf("1 × %s on-demand (standard credits), %.0f GiB gp3", typ, disk), []string{key, "ec2.ebs.gp3.gbmonth"},
			func(v map[string]float64) float64 { return h*v[key] + disk*v["ec2.ebs.gp3.gbmonth"] })
		if b, _ := in["associatePublicIpAddress"].(bool); b {
			add(r, "its public IPv4 address", []string{"ec2.publicipv4.hour"}, func(v map[string]float64) float64 { return h * v["ec2.publicipv4.hour"] })
		}
	},
	"aws:ec2/eip:Eip": func(c *costing, r plan.Resource) {
		h, add := c.hours, c.add
		add(r, "public IPv4 address", []string{"ec2.publicipv4.hour"}, func(v map[string]float64) float64 { return h * v["ec2.publicipv4.hour"] })
	},
	"aws:ec2/vpcEndpoint:VpcEndpoint": func(c *costing, r plan.Resource) {
		in, h, add := r.Inputs, c.hours, c.add
		if str(in, "vpcEndpointType") != "Interface" {
			return // gateway endpoints are free
		}
		azs := float64(len(plan.Strings(in["subnetIds"])))
		add(r, fmt.Sprintf("interface endpoint in %.0f AZs", azs), []string{"ec2.vpcendpoint.interface.hour"},
			func(v map[string]float64) float64 { return azs * h * v["ec2.vpcendpoint.interface.hour"] })
	},
	"aws:rds/instance:Instance": func(c *costing, r plan.Resource) {
		in, h, add := r.Inputs, c.hours, c.add
		class := str(in, "instanceClass")
		multi := 1.0
		if b, _ := in["multiAz"].(bool); b {
			multi = 2
		}
		storage := num(in["allocatedStorage"])
		what := fmt.Sprintf("%s PostgreSQL", class)
		if src := str(in, "replicateSourceDb"); src != "" {
			what += " read replica"
			for _, o := range c.plan.Resources {
				if o.Type == r.Type && str(o.Inputs, "identifier") == src {
					storage = num(o.Inputs["allocatedStorage"])
				}
			}
		}
		if multi == 2 {
			what += ", Multi-AZ"
		}
		what += fmt.Sprintf(", %.0f GB gp3", storage)
		key := "rds.postgres." + class + ".hour"
		add(r, what, []string{key, "rds.gp3.gbmonth"}, func(v map[string]float64) float64 {
			return multi * (h*v[key] + storage*v["rds.gp3.gbmonth"])
		})
		if b, _ := in["manageMasterUserPassword"].(bool); b {
			add(r, "its RDS-managed master password secret", []string{"secretsmanager.secret.month"},
				func(v map[string]float64) float64 { return v["secretsmanager.secret.month"] })
		}
	},
	"aws:kms/key:Key": func(c *costing, r plan.Resource) {
		add := c.add
		add(r, "KMS key", []string{"kms.key.month"}, func(v map[string]float64) float64 { return v["kms.key.month"] })
	},
	"aws:cloudwatch/metricAlarm:MetricAlarm": func(c *costing, r plan.Resource) {
		add := c.add
		add(r, "CloudWatch alarm", []string{"cloudwatch.alarm.month"}, func(v map[string]float64) float64 { return v["cloudwatch.alarm.month"] })
	},
	"aws:cloudtrail/trail:Trail": func(c *costing, r plan.Resource) {
		add := c.add
		// Idle, no sync or task reads the data buckets: no data events.
		add(r, "audit trail: management events as the region's first copy, no S3 data events while idle", []string{"cloudtrail.dataevents.100k"},
			func(v map[string]float64) float64 { return 0 })
	},
	"aws:secretsmanager/secret:Secret": func(c *costing, r plan.Resource) {
		add := c.add
		add(r, "Secrets Manager secret", []string{"secretsmanager.secret.month"}, func(v map[string]float64) float64 { return v["secretsmanager.secret.month"] })
	},
	"kubernetes:helm.sh/v3:Release": func(c *costing, r plan.Resource) {
		in, h, add := r.Inputs, c.hours, c.add
		for _, ing := range albIngresses(in["values"]) {
			if ing != "" && c.albGroups[ing] {
				return
			}
			c.albGroups[ing] = true
			what := "Application Load Balancer of its ingress"
			if ing != "" {
				what = "Application Load Balancer of ingress group " + ing
			}
			add(r, what, []string{"elb.alb.hour"}, func(v map[string]float64) float64 { return h * v["elb.alb.hour"] })
		}
	},
}
