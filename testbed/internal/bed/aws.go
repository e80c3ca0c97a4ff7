package bed

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/dataplatform/dataplatform/testbed/internal/planjson"
)

// awsHost runs AWS's APIs: moto in server mode (the stand-in for AWS
// itself), behind nginx terminating TLS for every endpoint name the
// platform's clients use, with a certificate from the bed's CA.
const awsHost = "aws"

// awsNames are the endpoint names of the services the apps call, in the
// stack's region (S3 also by bucket, virtual-hosted style).
func (b *Bed) awsNames() []string {
	r := b.region()
	names := []string{"sts." + r + ".amazonaws.com", "sts.amazonaws.com", "secretsmanager." + r + ".amazonaws.com",
		"s3.amazonaws.com", "s3." + r + ".amazonaws.com", "iam.amazonaws.com", "kms." + r + ".amazonaws.com"}
	for _, bk := range b.buckets() {
		names = append(names, bk+".s3.amazonaws.com", bk+".s3."+r+".amazonaws.com")
	}
	return names
}

func (b *Bed) buckets() []string {
	var out []string
	for _, r := range b.Plan.Find("aws:s3/bucketV2:BucketV2") {
		if n, _ := r.Inputs["bucket"].(string); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// startAWS starts moto and its TLS front, and fills it (aws/setup.py).
func (b *Bed) startAWS() error {
	ip, err := b.host(awsHost)
	if err != nil {
		return err
	}
	names := b.awsNames()
	if err := b.resolve(ip, names...); err != nil {
		return err
	}
	dir := b.path("aws")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pair, err := b.ca.Issue(names...)
	if err != nil {
		return err
	}
	cert, key, err := pair.Write(dir, "endpoints")
	if err != nil {
		return err
	}
	fake := filepath.Join(b.Tools.RepoDir, "testbed", "aws", "fakeaws.py")
	if _, err := b.Start(Spec{Name: "moto", Host: awsHost, Argv: []string{b.Tools.MotoVenv + "/bin/python", fake, "-H", "0.0.0.0", "-p", "5000"},
		Env: []string{"PATH=" + b.Tools.MotoVenv + "/bin:/usr/bin:/bin", "HOME=/tmp", "MOTO_ACCOUNT_ID=" + b.account(),
			// Requests after the setup's are signed and authorized
			// against the roles' policies.
			fmt.Sprintf("INITIAL_NO_AUTH_ACTION_COUNT=%d", 3)}}); err != nil {
		return err
	}
	if err := waitTCP(ip+":5000", 60*time.Second); err != nil {
		return fmt.Errorf("moto: %w", err)
	}
	conf := fmt.Sprintf(nginxTLSProxy, strings.Join(names, " "), cert, key, "http://127.0.0.1:5000")
	if err := b.startNginx(awsHost, "aws-nginx", conf); err != nil {
		return err
	}
	if err := waitTCP(ip+":443", 30*time.Second); err != nil {
		return err
	}
	return b.setupAWS(dir)
}

// account is the plan's AWS account.
func (b *Bed) account() string {
	for _, v := range b.Plan.Outputs {
		if s, ok := v.(string); ok && strings.HasPrefix(s, "arn:aws:") {
			if f := strings.Split(s, ":"); len(f) > 4 && f[4] != "" {
				return f[4]
			}
		}
	}
	return "123456789012"
}

// setupAWS creates the plan's buckets and IRSA roles (trust and policies
// as planned), and the connection and variable a user would store.
func (b *Bed) setupAWS(dir string) error {
	cfg := map[string]any{
		"region": b.region(), "account": b.account(),
		"buckets": b.buckets(), "roles": b.iamRoles(), "admin": map[string]string{"user": "testbed-admin"},
		"secrets": []map[string]string{
			{"name": b.secretsPrefix() + "/connections/testbed_source", "value": `{"conn_type": "postgres", "host": "source.testbed.internal", "login": "reader", "password": "` + b.derive("connection") + `", "port": 5432}`},
			{"name": b.secretsPrefix() + "/variables/testbed_greeting", "value": "hello from Secrets Manager"},
		},
	}
	js, _ := json.MarshalIndent(cfg, "", " ")
	path := filepath.Join(dir, "setup.json")
	if err := os.WriteFile(path, js, 0o644); err != nil {
		return err
	}
	script, err := filepath.Abs(filepath.Join(b.Tools.RepoDir, "testbed", "aws", "setup.py"))
	if err != nil {
		return err
	}
	out, err := b.Run(Spec{Name: "aws-setup", Host: awsHost, Argv: []string{b.Tools.MotoVenv + "/bin/python", script, path},
		Env: []string{"PATH=/usr/bin:/bin", "HOME=/tmp", "AWS_CA_BUNDLE=" + b.State.CA}}, 2*time.Minute)
	if err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return json.Unmarshal([]byte(lines[len(lines)-1]), &b.State.AWSAdmin)
}

// secretsPrefix is where Airflow's Secrets Manager backend looks: the
// prefix of connections_prefix in the rendered airflow.cfg.
func (b *Bed) secretsPrefix() string {
	cm, ok := planjson.Find(b.Objects, "ConfigMap", airflowNS, "airflow-config")
	if ok {
		for _, line := range strings.Split(planjson.Strings(cm.Map["data"])["airflow.cfg"], "\n") {
			if v, ok := strings.CutPrefix(line, "backend_kwargs = "); ok {
				var kw map[string]string
				if json.Unmarshal([]byte(v), &kw) == nil {
					return strings.TrimSuffix(kw["connections_prefix"], "/connections")
				}
			}
		}
	}
	return "missing-from-plan"
}

// iamRoles are the roles the apps' service accounts assume, with the
// plan's trust policy and every policy the plan attaches to them.
func (b *Bed) iamRoles() []map[string]any {
	policies := map[string]any{} // physical policy name -> document
	for _, r := range b.Plan.Find("aws:iam/policy:Policy") {
		for _, a := range b.Plan.Find("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
			if a.Name == r.Name {
				arn, _ := a.Inputs["policyArn"].(string)
				policies[arn[strings.LastIndex(arn, "/")+1:]] = r.Inputs["policy"]
			}
		}
	}
	wanted := map[string]bool{}
	for _, o := range b.Objects {
		if o.Kind() == "ServiceAccount" {
			if arn := o.Annotations()["eks.amazonaws.com/role-arn"]; arn != "" {
				wanted[arn[strings.LastIndex(arn, "/")+1:]] = true
			}
		}
	}
	var out []map[string]any
	for _, name := range sortedKeys(wanted) {
		role := map[string]any{"name": name, "policies": []map[string]any{}, "inline": []map[string]any{}}
		for _, r := range b.Plan.Find("aws:iam/role:Role") {
			if strings.HasPrefix(name, r.Name+"-") && len(name) == len(r.Name)+8 {
				role["trust"] = r.Inputs["assumeRolePolicy"]
			}
		}
		var ps []map[string]any
		for _, a := range b.Plan.Find("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
			arn, _ := a.Inputs["policyArn"].(string)
			if a.Inputs["role"] == name && policies[arn[strings.LastIndex(arn, "/")+1:]] != nil {
				ps = append(ps, map[string]any{"name": arn[strings.LastIndex(arn, "/")+1:], "document": policies[arn[strings.LastIndex(arn, "/")+1:]]})
			}
		}
		sort.Slice(ps, func(i, j int) bool { return ps[i]["name"].(string) < ps[j]["name"].(string) })
		role["policies"] = ps
		out = append(out, role)
	}
	return out
}

// nginxTLSProxy is an nginx that terminates TLS for names (%s) with a
// certificate (%s, key %s) and forwards plain HTTP to %s.
const nginxTLSProxy = `daemon off;
worker_processes 1;
pid /tmp/nginx.pid;
error_log stderr notice;
events { worker_connections 256; }
http {
  access_log /dev/stdout;
  client_body_temp_path /tmp/nginx-body;
  proxy_temp_path /tmp/nginx-proxy;
  client_max_body_size 0;
  server_names_hash_bucket_size 128;
  server {
    listen 443 ssl;
    server_name %s;
    ssl_certificate %s;
    ssl_certificate_key %s;
    location / {
      proxy_pass %s;
      proxy_set_header Host $http_host;
      proxy_http_version 1.1;
      proxy_request_buffering off;
      proxy_buffering off;
    }
  }
}
`

// startNginx starts nginx in host with conf.
func (b *Bed) startNginx(host, name, conf string) error {
	path := b.path("procs", name+".conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return err
	}
	_, err := b.Start(Spec{Name: name, Host: host, Argv: []string{b.Tools.Nginx, "-c", path, "-e", "stderr"}, Env: []string{"PATH=/usr/sbin:/usr/bin:/bin"}})
	return err
}
