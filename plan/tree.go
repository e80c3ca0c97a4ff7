package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// keySettings are the inputs shown beside each resource type in the tree.
// A type not listed shows its first few scalar inputs.
var keySettings = map[string][]string{
	"aws:ec2/vpc:Vpc":                                           {"cidrBlock", "enableDnsHostnames"},
	"aws:ec2/subnet:Subnet":                                     {"cidrBlock", "availabilityZone", "mapPublicIpOnLaunch"},
	"aws:ec2/route:Route":                                       {"destinationCidrBlock"},
	"aws:ec2/vpcEndpoint:VpcEndpoint":                           {"serviceName", "vpcEndpointType"},
	"aws:ec2/flowLog:FlowLog":                                   {"trafficType", "logDestinationType"},
	"aws:ec2/eip:Eip":                                           {"domain"},
	"aws:cloudwatch/logGroup:LogGroup":                          {"retentionInDays", "kmsKeyId"},
	"aws:iam/role:Role":                                         {"description"},
	"aws:eks/nodeGroup:NodeGroup":                               {"amiType", "instanceTypes", "capacityType", "scalingConfig"},
	"aws:eks/addon:Addon":                                       {"addonName", "addonVersion"},
	"aws:eks/accessEntry:AccessEntry":                           {"principalArn", "type"},
	"eks:index:Cluster":                                         {"name", "version", "authenticationMode", "endpointPublicAccess"},
	"aws:kms/key:Key":                                           {"description", "enableKeyRotation"},
	"aws:rds/instance:Instance":                                 {"engine", "engineVersion", "instanceClass", "multiAz", "storageEncrypted", "deletionProtection"},
	"aws:s3/bucketV2:BucketV2":                                  {"forceDestroy"},
	"aws:sqs/queue:Queue":                                       {"sqsManagedSseEnabled", "messageRetentionSeconds"},
	"kubernetes:helm.sh/v3:Release":                             {"chart", "version", "namespace"},
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {"ipProtocol", "fromPort", "toPort", "cidrIpv4"},
}

// skipInTree are inputs never shown in the tree (too long or always there).
var skipInTree = map[string]bool{"tags": true, "tagsAll": true, "name": true, "namePrefix": true}

// WriteTree prints the plan as a tree of resources under their parents, each
// line with the resource's type, name and key settings.
func (p *Plan) WriteTree(w io.Writer) error {
	children := map[string][]Resource{}
	for _, r := range p.Resources {
		children[r.Parent] = append(children[r.Parent], r)
	}
	for _, list := range children {
		sort.SliceStable(list, func(i, j int) bool {
			if list[i].Type != list[j].Type {
				return list[i].Type < list[j].Type
			}
			return list[i].Name < list[j].Name
		})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Stack %s: %d resources\n", p.Stack, len(p.Resources))
	var walk func(parent, indent string)
	walk = func(parent, indent string) {
		list := children[parent]
		for i, r := range list {
			branch, next := "├─ ", "│  "
			if i == len(list)-1 {
				branch, next = "└─ ", "   "
			}
			line := fmt.Sprintf("%s%s%s  %s", indent, branch, r.Type, r.Name)
			if s := settings(r); s != "" {
				line += "  " + s
			}
			if r.Protect {
				line += "  [protected]"
			}
			b.WriteString(line + "\n")
			if len(r.Rendered) > 0 {
				// What the chart renders: the objects the release creates.
				fmt.Fprintf(&b, "%s└─ rendered: %s\n", indent+next, renderedCounts(r))
			}
			walk(r.URN, indent+next)
		}
	}
	walk("", "")
	if len(p.Outputs) > 0 {
		b.WriteString("\nOutputs:\n")
		keys := make([]string, 0, len(p.Outputs))
		for k := range p.Outputs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "  %s: %s\n", k, compact(p.Outputs[k]))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func settings(r Resource) string {
	keys, ok := keySettings[r.Type]
	if !ok && strings.HasPrefix(r.Type, "kubernetes:") {
		// Kubernetes objects are best known by their name and namespace.
		var parts []string
		for _, k := range []string{"name", "namespace"} {
			if v := StringAt(r.Inputs, "metadata", k); v != "" {
				parts = append(parts, k+"="+v)
			}
		}
		return strings.Join(parts, " ")
	}
	if !ok {
		for k, v := range r.Inputs {
			if skipInTree[k] || strings.HasSuffix(k, "Id") || strings.HasSuffix(k, "Arn") {
				continue // IDs and ARNs are the mocks' inventions: noise in a tree
			}
			switch v.(type) {
			case string, bool, float64:
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		if len(keys) > 3 {
			keys = keys[:3]
		}
	}
	var parts []string
	for _, k := range keys {
		v, ok := r.Inputs[k]
		if !ok || v == nil {
			continue
		}
		parts = append(parts, k+"="+compact(v))
	}
	return strings.Join(parts, " ")
}

// compact renders a value on one line, shortened when long.
func compact(v any) string {
	var s string
	if str, ok := v.(string); ok {
		s = str
	} else {
		b, _ := json.Marshal(v)
		s = string(b)
	}
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}
