#!/usr/bin/env python3
"""What the emulator's iam:GetAccountAuthorizationDetails supports, checked against a running one.

    .venv/bin/python scripts/emulator_launcher.py --host 127.0.0.1 --port 0   # prints its URL
    .venv/bin/python scripts/emulator_iam_check.py http://127.0.0.1:PORT [--save-xml FILE]

Seeds (through boto3) a role with a managed policy in two versions, an inline Deny and a
permissions boundary; a user with an inline policy and a group; a group with an inline policy and
a managed NotAction policy. Then reads the answer and prints one line per property: `ok` for what
kms-audit relies on (it exits 1 if one fails), `gap` for where the emulator differs from IAM.
--save-xml writes the raw answer (tests/fixtures/iam/moto-5.2.5.xml was recorded this way).
"""
import json
import sys
import urllib.parse
import urllib.request

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCOUNT = "123456789012"


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def seed(iam):
    decrypt = iam.create_policy(PolicyName="kms-decrypt-all", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}))["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=decrypt, SetAsDefault=True, PolicyDocument=doc(
        {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:ReEncryptFrom"], "Resource": "*"}))
    not_iam = iam.create_policy(PolicyName="everything-but-iam", PolicyDocument=doc(
        {"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"}))["Policy"]["Arn"]
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}))
    iam.attach_role_policy(RoleName="app", PolicyArn=decrypt)
    iam.put_role_policy(RoleName="app", PolicyName="deny-sign", PolicyDocument=doc(
        {"Effect": "Deny", "Action": "kms:Sign", "Resource": "*"}))
    iam.put_role_permissions_boundary(RoleName="app", PermissionsBoundary=not_iam)
    iam.create_user(UserName="alice")
    iam.put_user_policy(UserName="alice", PolicyName="inline-kms", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "kms:*", "Resource": f"arn:aws:kms:*:{ACCOUNT}:key/*",
         "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}))
    iam.create_group(GroupName="admins")
    iam.add_user_to_group(GroupName="admins", UserName="alice")
    iam.attach_group_policy(GroupName="admins", PolicyArn=not_iam)
    iam.put_group_policy(GroupName="admins", PolicyName="group-inline", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "kms:CreateGrant", "Resource": "*"}))
    return decrypt, not_iam


def raw(endpoint, params):
    """The answer as kms-audit reads it: a SigV4-signed Query POST."""
    body = urllib.parse.urlencode(params)
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    request = AWSRequest(method="POST", url=endpoint + "/", data=body, headers=headers)
    SigV4Auth(Credentials("testing", "testing"), "iam", "us-east-1").add_auth(request)
    sent = urllib.request.Request(endpoint + "/", data=body.encode(), headers=dict(request.headers),
                                  method="POST")
    with urllib.request.urlopen(sent) as answer:
        return answer.read().decode()


def main():
    endpoint = sys.argv[1].rstrip("/")
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    decrypt, not_iam = seed(iam)
    failures = 0

    def report(ok, what, gap=False):
        nonlocal failures
        print(("gap " if gap else "ok  " if ok else "FAIL") + " " + what)
        if not ok and not gap:
            failures += 1

    try:
        iam.put_user_permissions_boundary(UserName="alice", PermissionsBoundary=not_iam)
        report(True, "user permissions boundary")
    except Exception as err:  # moto answers HTTP 500: NotImplementedError
        report(False, f"user permissions boundary: PutUserPermissionsBoundary fails ({type(err).__name__})", gap=True)

    text = raw(endpoint, {"Action": "GetAccountAuthorizationDetails", "Version": "2010-05-08"})
    if "--save-xml" in sys.argv:
        with open(sys.argv[sys.argv.index("--save-xml") + 1], "w") as out:
            out.write(text)
    d = iam.get_account_authorization_details()
    users = {u["UserName"]: u for u in d["UserDetailList"]}
    groups = {g["GroupName"]: g for g in d["GroupDetailList"]}
    roles = {r["RoleName"]: r for r in d["RoleDetailList"]}
    policies = {p["Arn"]: p for p in d["Policies"]}
    alice, admins, app = users.get("alice", {}), groups.get("admins", {}), roles.get("app", {})
    report([p["PolicyName"] for p in alice.get("UserPolicyList", [])] == ["inline-kms"], "user inline policy")
    report(alice.get("GroupList") == ["admins"], "group membership")
    report([p["PolicyName"] for p in admins.get("GroupPolicyList", [])] == ["group-inline"], "group inline policy")
    report([p["PolicyArn"] for p in admins.get("AttachedManagedPolicies", [])] == [not_iam], "group managed policy")
    report([p["PolicyName"] for p in app.get("RolePolicyList", [])] == ["deny-sign"], "role inline policy (Deny)")
    report([p["PolicyArn"] for p in app.get("AttachedManagedPolicies", [])] == [decrypt], "role managed policy")
    report(app.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn") == not_iam, "role permissions boundary")
    default = [v for v in policies.get(decrypt, {}).get("PolicyVersionList", []) if v["IsDefaultVersion"]]
    report(len(default) == 1 and "kms:ReEncryptFrom" in json.dumps(default[0]["Document"]),
           "managed policy versions with the default marked")
    not_action = policies.get(not_iam, {}).get("PolicyVersionList", [{}])[0].get("Document", {})
    report(not_action.get("Statement", [{}])[0].get("NotAction") == ["iam:*"], "NotAction kept in documents")
    report("%7B%22Version%22" in text, "policy documents URL-encoded")
    report(all("PolicyName" in p for p in d["Policies"]),
           "Policies members have PolicyName/PolicyId (kms-audit takes the name from the ARN)",
           gap=not all("PolicyName" in p for p in d["Policies"]))
    report("<AssumeRolePolicyDocument>%7B" in text,
           "AssumeRolePolicyDocument URL-encoded (kms-audit does not read it)",
           gap="<AssumeRolePolicyDocument>%7B" not in text)
    page = iam.get_account_authorization_details(MaxItems=1)
    report(page["IsTruncated"], "pagination: MaxItems=1 truncates (pagination is tested on recorded pages)",
           gap=not page["IsTruncated"])
    try:
        iam.attach_role_policy(RoleName="app", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
        report(True, "AWS-managed policies")
    except Exception as err:
        report(False, f"AWS-managed policies not loaded ({type(err).__name__}; "
                      "moto loads them only with MOTO_IAM_LOAD_MANAGED_POLICIES=true)", gap=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
