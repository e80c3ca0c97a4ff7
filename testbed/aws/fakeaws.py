"""moto's server with three corrections, so that it authorizes requests as
AWS does for what the platform's clients call (moto is the test bed's
stand-in for AWS; where it answers differently, the stand-in is fixed, not
the program):

1. Secrets Manager: moto checks every Secrets Manager action against the
   resource "*", so a policy scoped to secret ARNs (as every one of the
   platform's is) never allows anything. AWS authorizes a request on the
   secret's ARN (Secrets Manager user guide, "Resources ... in policies":
   arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>);
   for a name that matches no secret, the ARN of the name itself.
2. STS AssumeRoleWithWebIdentity is not signed ("Calling
   AssumeRoleWithWebIdentity does not require the use of AWS security
   credentials", STS API reference); moto fails it with a 500 once IAM is
   enforced. It is let through unsigned, and
3. the role's trust policy is checked against the token, as AWS checks it:
   a statement allowing sts:AssumeRoleWithWebIdentity to the federated
   principal of the token's issuer, whose StringEquals conditions on
   <issuer>:sub and <issuer>:aud hold for the token's claims. The token's
   signature is not checked (the bed has no cluster OIDC issuer).

    python fakeaws.py [moto_server arguments]
"""
import base64
import json
import sys

from moto.core import authorization
from moto.secretsmanager import responses as sm_responses
from moto.secretsmanager.models import secretsmanager_backends
from moto.iam.models import iam_backends
from moto.utilities.utils import get_partition
from werkzeug.exceptions import HTTPException


def _secret_resource(self):
    try:
        body = json.loads(self.body or "{}")
    except ValueError:
        return "*"
    secret_id = body.get("SecretId") or body.get("Name")
    if not secret_id:
        return "*"
    if secret_id.startswith("arn:"):
        return secret_id
    backend = secretsmanager_backends[self.current_account][self.region]
    secret = backend.secrets.get(secret_id)
    if secret is not None:
        return secret.arn
    return f"arn:{get_partition(self.region)}:secretsmanager:{self.region}:{self.current_account}:secret:{secret_id}"


sm_responses.SecretsManagerResponse._determine_resource = _secret_resource


class AccessDenied(HTTPException):
    code = 403

    def __init__(self, message):
        super().__init__()
        self.description = (
            '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
            f"<Code>AccessDenied</Code><Message>{message}</Message></Error><RequestId>testbed</RequestId></ErrorResponse>"
        )


def _claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _values(v):
    return v if isinstance(v, list) else [v]


def _trusts(trust, claims, partition, account):
    issuer = claims["iss"].removeprefix("https://")
    principal = f"arn:{partition}:iam::{account}:oidc-provider/{issuer}"
    auds = _values(claims.get("aud"))
    for st in _values(json.loads(trust).get("Statement", [])):
        actions = _values(st.get("Action", []))
        if st.get("Effect") != "Allow" or "sts:AssumeRoleWithWebIdentity" not in actions:
            continue
        if principal not in _values(st.get("Principal", {}).get("Federated", [])):
            continue
        ok = True
        for op, conds in st.get("Condition", {}).items():
            for key, want in conds.items():
                if op != "StringEquals":
                    ok = False  # not modelled: refuse rather than allow
                elif key == issuer + ":sub":
                    ok = ok and claims.get("sub") in _values(want)
                elif key == issuer + ":aud":
                    ok = ok and any(a in _values(want) for a in auds)
                else:
                    ok = False
        if ok:
            return True
    return False


_authorize = authorization.ActionAuthenticatorMixin._authenticate_and_authorize_action


def _authorize_web_identity(self, iam_request_cls, resource="*"):
    if self._get_action() == "AssumeRoleWithWebIdentity" and "Authorization" not in self.headers:
        role_arn = self._get_param("RoleArn")
        try:
            claims = _claims(self._get_param("WebIdentityToken"))
        except (ValueError, IndexError, KeyError):
            raise AccessDenied("Invalid web identity token")
        partition = get_partition(self.region)
        iam = iam_backends[self.current_account][partition]
        try:
            role = iam.get_role_by_arn(role_arn)
        except Exception:
            raise AccessDenied(f"Not authorized to perform sts:AssumeRoleWithWebIdentity on {role_arn}")
        if not _trusts(role.assume_role_policy_document, claims, partition, self.current_account):
            raise AccessDenied(f"Not authorized to perform sts:AssumeRoleWithWebIdentity: the trust policy of {role_arn} does not admit {claims.get('sub')}")
        return None
    return _authorize(self, iam_request_cls, resource)


authorization.ActionAuthenticatorMixin._authenticate_and_authorize_action = _authorize_web_identity

if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])
