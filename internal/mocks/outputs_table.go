package mocks

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// outputRules are the fake AWS's answers to a created resource, by type:
// each sets the outputs AWS returns (ARNs, IDs, endpoints) on o.out and
// returns the physical ID.
var outputRules = map[string]func(o *outputCtx) string{
	"aws:iam/role:Role": func(o *outputCtx) string {
		o.set("arn", fmt.Sprintf("arn:aws:iam::%s:role/%s", o.acct, o.physical))
		o.set("uniqueId", "AROA"+strings.ToUpper(o.h[:17]))
		return o.physical
	},
	"aws:iam/policy:Policy": func(o *outputCtx) string {
		arn := fmt.Sprintf("arn:aws:iam::%s:policy/%s", o.acct, o.physical)
		o.set("arn", arn)
		o.set("policyId", "ANPA"+strings.ToUpper(o.h[:17]))
		return arn
	},
	"aws:iam/instanceProfile:InstanceProfile": func(o *outputCtx) string {
		o.set("arn", fmt.Sprintf("arn:aws:iam::%s:instance-profile/%s", o.acct, o.physical))
		return o.physical
	},
	"aws:iam/rolePolicy:RolePolicy": func(o *outputCtx) string {
		return o.get("role") + ":" + o.args.Name
	},
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment": func(o *outputCtx) string {
		return o.get("role") + "-" + o.h[:20]
	},
	"aws:iam/openIdConnectProvider:OpenIdConnectProvider": func(o *outputCtx) string {
		// IAM keeps the URL without its scheme (GetOpenIDConnectProvider Url).
		url := strings.TrimPrefix(o.get("url"), "https://")
		arn := fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", o.acct, url)
		o.set("arn", arn)
		o.set("url", url)
		return arn
	},
	"aws:cloudwatch/logGroup:LogGroup": func(o *outputCtx) string {
		o.set("arn", fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", o.region, o.acct, o.physical))
		return o.physical
	},
	"aws:cloudwatch/eventRule:EventRule": func(o *outputCtx) string {
		o.set("arn", fmt.Sprintf("arn:aws:events:%s:%s:rule/%s", o.region, o.acct, o.physical))
		return o.physical
	},
	"aws:cloudwatch/eventTarget:EventTarget": func(o *outputCtx) string {
		return o.get("rule") + "-" + o.args.Name
	},
	"aws:kms/key:Key": func(o *outputCtx) string {
		keyID := uuid(o.h)
		o.set("keyId", keyID)
		o.set("arn", fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", o.region, o.acct, keyID))
		return keyID
	},
	"aws:kms/alias:Alias": func(o *outputCtx) string {
		o.set("arn", fmt.Sprintf("arn:aws:kms:%s:%s:%s", o.region, o.acct, o.get("name")))
		o.set("targetKeyArn", fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", o.region, o.acct, o.get("targetKeyId")))
		return o.get("name")
	},
	"aws:sqs/queue:Queue": func(o *outputCtx) string {
		url := fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", o.region, o.acct, o.physical)
		o.set("arn", fmt.Sprintf("arn:aws:sqs:%s:%s:%s", o.region, o.acct, o.physical))
		o.set("url", url)
		return url
	},
	"aws:sqs/queuePolicy:QueuePolicy": func(o *outputCtx) string {
		return o.get("queueUrl")
	},
	"aws:s3/bucketV2:BucketV2": func(o *outputCtx) string {
		o.set("arn", "arn:aws:s3:::"+o.physical)
		o.set("bucketDomainName", o.physical+".s3.amazonaws.com")
		o.set("bucketRegionalDomainName", fmt.Sprintf("%s.s3.%s.amazonaws.com", o.physical, o.region))
		o.set("region", o.region)
		o.set("hostedZoneId", "Z3AQBSTGFYJSTF")
		return o.physical
	},
	"aws:rds/instance:Instance": func(o *outputCtx) string {
		address := fmt.Sprintf("%s.c%s.%s.rds.amazonaws.com", o.physical, o.h[:12], o.region)
		port := 5432.0
		if p, ok := o.out["port"]; ok && p.IsNumber() {
			port = p.NumberValue()
		}
		o.set("address", address)
		o.set("endpoint", fmt.Sprintf("%s:%d", address, int(port)))
		o.out["port"] = resource.NewProperty(port)
		o.set("arn", fmt.Sprintf("arn:aws:rds:%s:%s:db:%s", o.region, o.acct, o.physical))
		o.set("resourceId", "db-"+strings.ToUpper(o.h[:26]))
		o.set("hostedZoneId", "Z2R2ITUGPM61AM")
		if v, ok := o.out["manageMasterUserPassword"]; ok && v.IsBool() && v.BoolValue() {
			kms := o.get("masterUserSecretKmsKeyId")
			if kms == "" {
				kms = fmt.Sprintf("arn:aws:kms:%s:%s:alias/aws/secretsmanager", o.region, o.acct)
			}
			secret := resource.NewProperty(resource.PropertyMap{
				"secretArn":    resource.NewProperty(fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:rds!db-%s-%s", o.region, o.acct, uuid(o.h), suffix6(o.h))),
				"kmsKeyId":     resource.NewProperty(kms),
				"secretStatus": resource.NewProperty("active"),
			})
			o.out["masterUserSecrets"] = resource.NewProperty([]resource.PropertyValue{secret})
		}
		return o.physical
	},
	"aws:ecr/repository:Repository": func(o *outputCtx) string {
		n := o.get("name")
		o.set("arn", fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s", o.region, o.acct, n))
		o.set("registryId", o.acct)
		o.set("repositoryUrl", fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s", o.acct, o.region, n))
		return n
	},
	"aws:efs/fileSystem:FileSystem": func(o *outputCtx) string {
		id := "fs-0" + o.h[:16]
		o.set("arn", fmt.Sprintf("arn:aws:elasticfilesystem:%s:%s:file-system/%s", o.region, o.acct, id))
		o.set("dnsName", fmt.Sprintf("%s.efs.%s.amazonaws.com", id, o.region))
		return id
	},
	"aws:efs/mountTarget:MountTarget": func(o *outputCtx) string {
		return "fsmt-0" + o.h[:16]
	},
	"aws:cloudwatch/metricAlarm:MetricAlarm": func(o *outputCtx) string {
		o.set("arn", fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", o.region, o.acct, o.physical))
		return o.physical
	},
	"aws:rds/snapshot:Snapshot": func(o *outputCtx) string {
		id := o.get("dbSnapshotIdentifier")
		o.set("dbSnapshotArn", fmt.Sprintf("arn:aws:rds:%s:%s:snapshot:%s", o.region, o.acct, id))
		o.set("status", "available")
		return id
	},
	"aws:rds/subnetGroup:SubnetGroup": func(o *outputCtx) string {
		o.set("arn", fmt.Sprintf("arn:aws:rds:%s:%s:subgrp:%s", o.region, o.acct, o.physical))
		return o.physical
	},
	"aws:rds/parameterGroup:ParameterGroup": func(o *outputCtx) string {
		o.set("arn", fmt.Sprintf("arn:aws:rds:%s:%s:pg:%s", o.region, o.acct, o.physical))
		return o.physical
	},
	"aws:secretsmanager/secret:Secret": func(o *outputCtx) string {
		arn := fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", o.region, o.acct, o.physical, suffix6(o.h))
		o.set("arn", arn)
		return arn
	},
	"aws:secretsmanager/secretVersion:SecretVersion": func(o *outputCtx) string {
		v := uuid(hash(o.h + "version"))
		o.set("versionId", v)
		o.set("arn", o.get("secretId"))
		return o.get("secretId") + "|" + v
	},
	"aws:cognito/userPool:UserPool": func(o *outputCtx) string {
		id := o.region + "_" + strings.ToUpper(o.h[:1]) + o.h[1:9]
		o.set("arn", fmt.Sprintf("arn:aws:cognito-idp:%s:%s:userpool/%s", o.region, o.acct, id))
		o.set("endpoint", fmt.Sprintf("cognito-idp.%s.amazonaws.com/%s", o.region, id))
		return id
	},
	"aws:cognito/userPoolClient:UserPoolClient": func(o *outputCtx) string {
		if v, ok := o.args.Inputs["generateSecret"]; ok && unwrap(v).IsBool() && unwrap(v).BoolValue() {
			o.out["clientSecret"] = resource.MakeSecret(resource.NewProperty(fakeSecret(hash(o.h+o.m.Seed+"client"), 51)))
		}
		return o.h[:26]
	},
	"aws:cognito/userPoolDomain:UserPoolDomain": func(o *outputCtx) string {
		o.set("awsAccountId", o.acct)
		o.set("cloudfrontDistribution", "d"+o.h[:13]+".cloudfront.net")
		return o.get("domain")
	},
	"aws:cognito/userGroup:UserGroup": func(o *outputCtx) string {
		return o.get("userPoolId") + "/" + o.get("name")
	},
	"aws:cognito/identityProvider:IdentityProvider": func(o *outputCtx) string {
		return o.get("userPoolId") + ":" + o.get("providerName")
	},
	"aws:cloudtrail/trail:Trail": func(o *outputCtx) string {
		arn := fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", o.region, o.acct, o.physical)
		o.set("arn", arn)
		o.set("homeRegion", o.region)
		return o.physical
	},
	"aws:sns/topic:Topic": func(o *outputCtx) string {
		arn := fmt.Sprintf("arn:aws:sns:%s:%s:%s", o.region, o.acct, o.physical)
		o.set("arn", arn)
		return arn
	},
	"aws:eks/cluster:Cluster": func(o *outputCtx) string {
		o.m.eksClusterState(o.out, o.physical)
		return o.physical
	},
	"aws:ec2/securityGroupRule:SecurityGroupRule": func(o *outputCtx) string {
		return "sgrule-" + o.h[:10]
	},
	"aws:eks/nodeGroup:NodeGroup": func(o *outputCtx) string {
		o.set("arn", fmt.Sprintf("arn:aws:eks:%s:%s:nodegroup/%s/%s/%s", o.region, o.acct, o.get("clusterName"), o.physical, uuid(o.h)))
		o.set("status", "ACTIVE")
		return o.get("clusterName") + ":" + o.physical
	},
	"aws:eks/addon:Addon": func(o *outputCtx) string {
		o.set("arn", fmt.Sprintf("arn:aws:eks:%s:%s:addon/%s/%s/%s", o.region, o.acct, o.get("clusterName"), o.get("addonName"), uuid(o.h)))
		return o.get("clusterName") + ":" + o.get("addonName")
	},
	"aws:eks/accessEntry:AccessEntry": func(o *outputCtx) string {
		o.set("accessEntryArn", fmt.Sprintf("arn:aws:eks:%s:%s:access-entry/%s/role/%s/%s", o.region, o.acct, o.get("clusterName"), o.acct, uuid(o.h)))
		return o.get("clusterName") + ":" + o.get("principalArn")
	},
	"aws:eks/accessPolicyAssociation:AccessPolicyAssociation": func(o *outputCtx) string {
		return o.get("clusterName") + "#" + o.get("principalArn") + "#" + o.get("policyArn")
	},
	"random:index/randomPassword:RandomPassword": func(o *outputCtx) string {
		o.out["result"] = resource.MakeSecret(resource.NewProperty(fakeSecret(hash(o.h+o.m.Seed+o.m.replaced(o.args)), 32)))
		return "none"
	},
	"random:index/randomId:RandomId": func(o *outputCtx) string {
		n := 8
		if v, ok := o.out["byteLength"]; ok && v.IsNumber() {
			n = int(v.NumberValue())
		}
		raw := []byte(hash(o.h + o.m.Seed + o.m.replaced(o.args) + "id"))[:n]
		hexID := fmt.Sprintf("%x", raw)
		o.set("hex", hexID)
		o.set("b64Url", base64.RawURLEncoding.EncodeToString(raw))
		o.set("b64Std", base64.StdEncoding.EncodeToString(raw))
		return base64.RawURLEncoding.EncodeToString(raw)
	},
	"random:index/randomBytes:RandomBytes": func(o *outputCtx) string {
		raw := []byte(hash(o.h + o.m.Seed + o.m.replaced(o.args) + "bytes"))[:32]
		o.out["base64"] = resource.MakeSecret(resource.NewProperty(base64.StdEncoding.EncodeToString(raw)))
		o.out["hex"] = resource.MakeSecret(resource.NewProperty(fmt.Sprintf("%x", raw)))
		return "none"
	},
}
