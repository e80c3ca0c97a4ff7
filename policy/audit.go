package policy

import (
	"slices"
	"strings"

	"github.com/dataplatform/dataplatform/plan"
)

const tTrail = "aws:cloudtrail/trail:Trail"

// auditRules check that reads of synced data and secrets are recorded.
// Their cost shows in the estimate (insights: CloudTrail data events and
// the audit bucket).
var auditRules = []Rule{
	{ID: "AUD-001", Severity: Medium, Control: "AWS FSBP S3.22, S3.23 (object-level read and write events)",
		Description: "Object reads and writes of every data bucket are recorded (CloudTrail S3 data events)", check: checkDataEvents},
	{ID: "AUD-002", Severity: Medium, Control: "AWS FSBP CloudTrail.1 (read and write management events)",
		Description: "A trail records management read events, Secrets Manager's GetSecretValue among them", check: checkManagementReads},
	{ID: "AUD-003", Severity: Medium, Control: "AWS FSBP CloudTrail.2, CloudTrail.4",
		Description: "Trails encrypt their log files with a key of ours and validate them", check: each(tTrail, func(g *graph, r plan.Resource) string {
			if str(r.Inputs, "kmsKeyId") == "" {
				return "log files are not encrypted with a customer-managed key"
			}
			if !boolean(r.Inputs, "enableLogFileValidation") {
				return "log file validation is off"
			}
			return ""
		})},
}

// selectors are a trail's advanced event selectors, each as its field
// selectors by field.
func selectors(trail plan.Resource) []map[string]map[string]any {
	var out []map[string]map[string]any
	for _, s := range objects(trail.Inputs["advancedEventSelectors"]) {
		fields := map[string]map[string]any{}
		for _, f := range objects(s["fieldSelectors"]) {
			fields[str(f, "field")] = f
		}
		out = append(out, fields)
	}
	return out
}

// recordsReads reports whether a selector keeps read events (it does not
// filter readOnly to false).
func recordsReads(fields map[string]map[string]any) bool {
	ro, ok := fields["readOnly"]
	return !ok || !slices.Contains(list(ro["equals"]), "false")
}

// trailBuckets are the buckets that receive trails' log files.
func trailBuckets(g *graph) []string {
	var out []string
	for _, t := range g.of(tTrail) {
		out = append(out, str(t.Inputs, "s3BucketName"))
	}
	return out
}

func checkDataEvents(g *graph) []Violation {
	var out []Violation
	targets := trailBuckets(g)
	for _, b := range g.of(tBucket) {
		name := str(b.Inputs, "bucket")
		if slices.Contains(targets, name) {
			continue // a trail's own bucket: recording it would record itself
		}
		recorded := false
		for _, t := range g.of(tTrail) {
			for _, f := range selectors(t) {
				if !slices.Contains(list(f["eventCategory"]["equals"]), "Data") || !slices.Contains(list(f["resources.type"]["equals"]), "AWS::S3::Object") || !recordsReads(f) {
					continue
				}
				for _, prefix := range list(f["resources.ARN"]["startsWiths"]) {
					if strings.HasPrefix("arn:aws:s3:::"+name+"/", prefix) {
						recorded = true
					}
				}
			}
		}
		if !recorded {
			out = append(out, violation(b, "no trail records reads of its objects (S3 data events)"))
		}
	}
	return out
}

func checkManagementReads(g *graph) []Violation {
	for _, t := range g.of(tTrail) {
		for _, f := range selectors(t) {
			if slices.Contains(list(f["eventCategory"]["equals"]), "Management") && recordsReads(f) &&
				!slices.Contains(list(f["eventSource"]["notEquals"]), "secretsmanager.amazonaws.com") {
				return nil
			}
		}
	}
	for _, s := range g.of(tSecret) {
		return []Violation{violation(s, "no trail records management read events: reads of this secret's value leave no record beyond CloudTrail's 90-day event history")}
	}
	return nil
}
