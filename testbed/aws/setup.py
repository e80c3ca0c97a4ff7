"""Fills the bed's AWS (moto in server mode) with what the plan creates and
the user's data: the plan's buckets and IAM roles (with their policies), and
a connection and a variable under the prefixes Airflow's Secrets Manager
backend reads.

    python setup.py <setup.json>

setup.json: {"region", "buckets": [...], "roles": [{"name", "trust",
"policies": [{"name", "document"}], "inline": [{"name", "document"}]}],
"secrets": [{"name", "value"}], "admin": {"user"}}. With "admin", the first
calls make an IAM user with AdministratorAccess-like rights, and print its
access key as JSON on stdout: moto enforces IAM after INITIAL_NO_AUTH_ACTION_COUNT
calls, and everything after that is signed by that user.
"""
import json
import sys

import boto3


def main(path):
    cfg = json.load(open(path))
    # No endpoint_url: each client calls its service's own endpoint name, as the
    # apps do, which the bed resolves to its AWS.
    kw = dict(region_name=cfg["region"],
              aws_access_key_id="testbed", aws_secret_access_key="testbed")
    iam = boto3.client("iam", **kw)
    out = {}
    if cfg.get("admin"):
        user = cfg["admin"]["user"]
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="admin", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName=user)["AccessKey"]
        out = {"accessKeyId": key["AccessKeyId"], "secretAccessKey": key["SecretAccessKey"]}
        kw.update(aws_access_key_id=out["accessKeyId"], aws_secret_access_key=out["secretAccessKey"])
        iam = boto3.client("iam", **kw)
    s3 = boto3.client("s3", **kw)
    for b in cfg["buckets"]:
        s3.create_bucket(Bucket=b)
    for r in cfg["roles"]:
        iam.create_role(RoleName=r["name"], AssumeRolePolicyDocument=json.dumps(r["trust"]))
        for p in r["policies"]:
            arn = "arn:aws:iam::%s:policy/%s" % (cfg["account"], p["name"])
            try:
                iam.get_policy(PolicyArn=arn)
            except iam.exceptions.NoSuchEntityException:
                iam.create_policy(PolicyName=p["name"], PolicyDocument=json.dumps(p["document"]))
            iam.attach_role_policy(RoleName=r["name"], PolicyArn=arn)
        for p in r.get("inline", []):
            iam.put_role_policy(RoleName=r["name"], PolicyName=p["name"], PolicyDocument=json.dumps(p["document"]))
    sm = boto3.client("secretsmanager", **kw)
    for s in cfg["secrets"]:
        sm.create_secret(Name=s["name"], SecretString=s["value"])
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
