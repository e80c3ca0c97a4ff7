package stackconfig

import (
	"errors"
	"testing"

	"github.com/dataplatform/dataplatform/internal/validate"
)

// FuzzParse feeds arbitrary text to each config section: Parse must never
// panic, and must either accept the config or explain every problem with a
// field path.
func FuzzParse(f *testing.F) {
	for i, raw := range []string{
		`{"cidrBlock":"10.10.0.0/16","azCount":2,"natStrategy":"Single","interfaceEndpoints":["sts"],"flowLogs":{"retentionDays":14}}`,
		`{"kubernetesVersion":"1.35","adminRoleArns":["arn:aws:iam::123456789012:role/a"],"addons":{"vpcCni":"v1.21.1-eksbuild.7"}}`,
		`{"chartVersion":"1.14.1","nodePools":[{"name":"default","capacityTypes":["spot"],"cpuLimit":32}]}`,
		`{"engineVersion":"17.6","multiAz":true,"readReplica":true}`,
		`{"versioning":false,"logExpirationDays":14}`,
		`{"recoveryWindowDays":0}`,
		`{"airbyte":{"host":"a.example.com"},"airflow":{"gitSync":{"repo":"https://x"}}}`,
		`{"waivers":[{"rule":"RDS-005","reason":"because dev"}]}`,
		`null`, `[]`, `"x"`, `{"cidrBlock":{"a":[1,2,{"b":null}]}}`, `{"nodePools":[null,{}]}`,
	} {
		f.Add(uint8(i), raw)
	}
	f.Fuzz(func(t *testing.T, which uint8, raw string) {
		section := Sections[int(which)%len(Sections)]
		get := func(key string) string {
			switch key {
			case "aws:region":
				return "us-east-1"
			case Namespace + ":" + section:
				return raw
			}
			return ""
		}
		cfg, err := Parse("dataplatform", "fuzz", get)
		if err == nil {
			if cfg == nil {
				t.Fatal("no config and no error")
			}
			return
		}
		var verr *validate.Error
		if !errors.As(err, &verr) || len(verr.Problems) == 0 {
			t.Fatalf("error without problems: %v", err)
		}
		for _, p := range verr.Problems {
			if p.Field == "" || p.Message == "" {
				t.Fatalf("problem without field or message: %+v", p)
			}
		}
	})
}
