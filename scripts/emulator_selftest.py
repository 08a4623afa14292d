#!/usr/bin/env python3
"""Self-test for scripts/emulator_launcher.py.

Starts the launcher on a free port, waits for its ready line, checks every patch with boto3
against several regions, then stops it with SIGTERM. Prints
    emulator selftest: N passed, M failed
and exits non-zero if anything failed.  Run: .venv/bin/python scripts/emulator_selftest.py
"""
import json
import os
import socket
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

LAUNCHER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "emulator_launcher.py")
ACCOUNT = "123456789012"  # moto's default account
CHECKS = []
state = {"url": None, "raw": None}


def check(fn):
    CHECKS.append(fn)
    return fn


def kms(region="us-east-1"):
    client = boto3.client(
        "kms", region_name=region, endpoint_url=state["url"],
        aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(parameter_validation=False))  # range checks must come from the emulator

    def keep_raw(http_response, **_):  # the wire JSON, to check for nulls / absent keys
        state["raw"] = json.loads(http_response.content or b"null")
    client.meta.events.register("after-call.kms", keep_raw)
    return client


def raw(client, operation, **params):
    """Calls operation and returns the response body exactly as the emulator sent it."""
    getattr(client, operation)(**params)
    return state["raw"]


def error_of(call, *args, **kwargs):
    """The AWS error code (and HTTP status) a call fails with."""
    try:
        call(*args, **kwargs)
    except ClientError as err:
        return err.response["Error"]["Code"], err.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError(f"{call.__name__} did not fail")


def new_key(client, **params):
    return client.create_key(**params)["KeyMetadata"]


def meta(client, key_id):
    return client.describe_key(KeyId=key_id)["KeyMetadata"]


def reset():
    request = urllib.request.Request(state["url"] + "/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).read()


# --- 1. ReplicateKey ------------------------------------------------------------------------

@check
def replicas_are_independent_keys():
    use1, euw1, aps2 = kms("us-east-1"), kms("eu-west-1"), kms("ap-southeast-2")
    primary = new_key(use1, MultiRegion=True, Description="primary",
                      Tags=[{"TagKey": "owner", "TagValue": "p"}])
    kid, parn = primary["KeyId"], primary["Arn"]
    use1.create_alias(AliasName="alias/primary", TargetKeyId=kid)
    use1.create_grant(KeyId=kid, GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:role/x",
                      Operations=["Decrypt"])
    custom = json.dumps({"Version": "2012-10-17", "Id": "custom", "Statement": []})
    out = use1.replicate_key(KeyId=kid, ReplicaRegion="eu-west-1", Description="replica",
                             Policy=custom, Tags=[{"TagKey": "r", "TagValue": "1"}])
    assert out["ReplicaKeyMetadata"]["Arn"] == parn.replace("us-east-1", "eu-west-1")
    assert out["ReplicaPolicy"] == custom
    use1.replicate_key(KeyId=kid, ReplicaRegion="ap-southeast-2")

    p, e, a = meta(use1, kid), meta(euw1, kid), meta(aps2, kid)
    assert p["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"
    assert e["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    assert a["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    assert meta(use1, kid)["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"
    expected = [{"Arn": e["Arn"], "Region": "eu-west-1"}, {"Arn": a["Arn"], "Region": "ap-southeast-2"}]
    for m in (p, e, a):
        assert m["MultiRegionConfiguration"]["PrimaryKey"] == {"Arn": parn, "Region": "us-east-1"}
        assert sorted(m["MultiRegionConfiguration"]["ReplicaKeys"], key=str) == sorted(expected, key=str), m
    assert (e["Description"], a["Description"], p["Description"]) == ("replica", "primary", "primary")
    assert e["KeyState"] == "Enabled" and e["Enabled"] is True

    assert euw1.get_key_policy(KeyId=kid, PolicyName="default")["Policy"] == custom
    default = json.loads(aps2.get_key_policy(KeyId=kid, PolicyName="default")["Policy"])
    assert default["Statement"][0]["Principal"]["AWS"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert json.loads(use1.get_key_policy(KeyId=kid, PolicyName="default")["Policy"])["Id"] != "custom"

    assert euw1.list_resource_tags(KeyId=kid)["Tags"] == [{"TagKey": "r", "TagValue": "1"}]
    assert aps2.list_resource_tags(KeyId=kid)["Tags"] == []
    assert use1.list_resource_tags(KeyId=kid)["Tags"] == [{"TagKey": "owner", "TagValue": "p"}]
    assert euw1.list_aliases(KeyId=kid)["Aliases"] == []
    assert [x["AliasName"] for x in use1.list_aliases(KeyId=kid)["Aliases"]] == ["alias/primary"]
    assert euw1.list_grants(KeyId=kid)["Grants"] == []
    assert len(use1.list_grants(KeyId=kid)["Grants"]) == 1

    # A replica added later shows up everywhere.
    use1.replicate_key(KeyId=kid, ReplicaRegion="eu-central-1")
    assert len(meta(euw1, kid)["MultiRegionConfiguration"]["ReplicaKeys"]) == 3
    assert len(meta(use1, kid)["MultiRegionConfiguration"]["ReplicaKeys"]) == 3


@check
def replicate_key_errors():
    use1 = kms()
    kid = new_key(use1, MultiRegion=True)["KeyId"]
    use1.replicate_key(KeyId=kid, ReplicaRegion="eu-west-1")
    assert error_of(use1.replicate_key, KeyId=kid, ReplicaRegion="eu-west-1")[0] == "AlreadyExistsException"
    single = new_key(use1)["KeyId"]
    assert error_of(use1.replicate_key, KeyId=single, ReplicaRegion="eu-west-1") == (
        "UnsupportedOperationException", 400)


@check
def replica_rotation_follows_primary():
    use1, euw1 = kms(), kms("eu-west-1")
    kid = new_key(use1, MultiRegion=True)["KeyId"]
    use1.replicate_key(KeyId=kid, ReplicaRegion="eu-west-1")
    assert euw1.get_key_rotation_status(KeyId=kid)["KeyRotationEnabled"] is False
    use1.enable_key_rotation(KeyId=kid, RotationPeriodInDays=180)
    status = euw1.get_key_rotation_status(KeyId=kid)
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 180
    assert status["KeyId"].startswith("arn:aws:kms:eu-west-1:")
    assert error_of(euw1.enable_key_rotation, KeyId=kid)[0] == "UnsupportedOperationException"


# --- 2. CreateKey MultiRegion --------------------------------------------------------------

@check
def multi_region_is_always_boolean():
    client = kms("eu-west-1")
    body = raw(client, "create_key")
    assert body["KeyMetadata"]["MultiRegion"] is False
    assert raw(client, "describe_key", KeyId=body["KeyMetadata"]["KeyId"])["KeyMetadata"]["MultiRegion"] is False
    assert "MultiRegionConfiguration" not in body["KeyMetadata"]
    assert new_key(client, MultiRegion=True)["MultiRegion"] is True


# --- 3. Rotation --------------------------------------------------------------------------

@check
def rotation_unsupported_for_other_keys():
    client = kms()
    for params in ({"KeySpec": "RSA_2048", "KeyUsage": "ENCRYPT_DECRYPT"},
                   {"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"},
                   {"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"},
                   {"Origin": "EXTERNAL"},
                   {"Origin": "AWS_CLOUDHSM", "CustomKeyStoreId": "cks-1234567890abcdef0"},
                   {"Origin": "EXTERNAL_KEY_STORE", "CustomKeyStoreId": "cks-0fedcba987654321",
                    "XksKeyId": "xks-key-1"}):
        kid = new_key(client, **params)["KeyId"]
        for call in (client.enable_key_rotation, client.get_key_rotation_status):
            assert error_of(call, KeyId=kid) == ("UnsupportedOperationException", 400), params
    # The wire format of the error is AWS's JSON one.
    kid = new_key(client, KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyId"]
    req = urllib.request.Request(
        state["url"] + "/", data=json.dumps({"KeyId": kid}).encode(), method="POST",
        headers={"X-Amz-Target": "TrentService.EnableKeyRotation",
                 "Content-Type": "application/x-amz-json-1.1",
                 "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/kms/"
                                  "aws4_request, SignedHeaders=host, Signature=x"})
    try:
        urllib.request.urlopen(req, timeout=10)
        raise AssertionError("raw EnableKeyRotation did not fail")
    except urllib.error.HTTPError as err:
        body = json.loads(err.read())
        assert err.code == 400 and body["__type"] == "UnsupportedOperationException", body
        assert body["message"]


@check
def rotation_period_and_next_date():
    client = kms("ap-southeast-2")
    kid = new_key(client)["KeyId"]
    body = raw(client, "get_key_rotation_status", KeyId=kid)
    assert body == {"KeyId": meta(client, kid)["Arn"], "KeyRotationEnabled": False}, body
    for bad in (89, 2561):
        assert error_of(client.enable_key_rotation, KeyId=kid, RotationPeriodInDays=bad)[0] == "ValidationException"
    before = time.time()
    client.enable_key_rotation(KeyId=kid)
    body = raw(client, "get_key_rotation_status", KeyId=kid)
    assert body["KeyRotationEnabled"] is True and body["RotationPeriodInDays"] == 365
    assert before + 365 * 86400 - 5 <= body["NextRotationDate"] <= time.time() + 365 * 86400 + 5
    client.enable_key_rotation(KeyId=kid, RotationPeriodInDays=90)
    body = raw(client, "get_key_rotation_status", KeyId=kid)
    assert body["RotationPeriodInDays"] == 90
    assert abs(body["NextRotationDate"] - (before + 90 * 86400)) < 10
    client.disable_key_rotation(KeyId=kid)
    assert raw(client, "get_key_rotation_status", KeyId=kid) == {
        "KeyId": meta(client, kid)["Arn"], "KeyRotationEnabled": False}


@check
def rotation_hidden_while_pending_deletion():
    client = kms()
    kid = new_key(client)["KeyId"]
    client.enable_key_rotation(KeyId=kid, RotationPeriodInDays=400)
    client.schedule_key_deletion(KeyId=kid, PendingWindowInDays=7)
    assert client.get_key_rotation_status(KeyId=kid)["KeyRotationEnabled"] is False
    client.cancel_key_deletion(KeyId=kid)
    status = client.get_key_rotation_status(KeyId=kid)
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 400


# --- 4. Pagination ------------------------------------------------------------------------

def pages(client, operation, item_key, limit, **params):
    """Walks every page; checks Truncated/NextMarker on the wire; returns (items, page count)."""
    items, marker, count = [], None, 0
    while True:
        extra = {"Marker": marker} if marker else {}
        body = raw(client, operation, Limit=limit, **params, **extra)
        count += 1
        assert len(body[item_key]) <= limit
        items += body[item_key]
        if not body["Truncated"]:
            assert "NextMarker" not in body, body
            return items, count
        assert isinstance(body["NextMarker"], str) and body["NextMarker"]
        marker = body["NextMarker"]


@check
def pagination_honours_limit_and_marker():
    client = kms("eu-west-2")
    keys = [new_key(client)["KeyId"] for _ in range(5)]
    listed, count = pages(client, "list_keys", "Keys", 2)
    assert [k["KeyId"] for k in listed] == keys and count == 3
    assert raw(client, "list_keys")["Truncated"] is False

    for i in range(3):
        client.create_alias(AliasName=f"alias/a{i}", TargetKeyId=keys[i])
    listed, count = pages(client, "list_aliases", "Aliases", 4)
    assert len(listed) == 3 + 14 and count == 5
    assert len({a["AliasName"] for a in listed}) == 17

    kid = keys[0]
    for i in range(3):
        client.create_grant(KeyId=kid, GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:role/r{i}",
                            Operations=["Encrypt"])
    listed, count = pages(client, "list_grants", "Grants", 2, KeyId=kid)
    assert len({g["GrantId"] for g in listed}) == 3 and count == 2

    client.tag_resource(KeyId=kid, Tags=[{"TagKey": f"t{i}", "TagValue": "v"} for i in range(5)])
    listed, count = pages(client, "list_resource_tags", "Tags", 2, KeyId=kid)
    assert sorted(t["TagKey"] for t in listed) == [f"t{i}" for i in range(5)] and count == 3

    assert error_of(client.list_keys, Limit=1001)[0] == "ValidationException"
    assert error_of(client.list_keys, Marker="not-a-marker")[0] == "InvalidMarkerException"


@check
def pagination_default_limits():
    client = kms("ca-central-1")
    kid = new_key(client)["KeyId"]
    for i in range(51):
        client.create_grant(KeyId=kid, GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:role/g{i}",
                            Operations=["Decrypt"])
    body = raw(client, "list_grants", KeyId=kid)
    assert len(body["Grants"]) == 50 and body["Truncated"] is True
    rest = raw(client, "list_grants", KeyId=kid, Marker=body["NextMarker"])
    assert len(rest["Grants"]) == 1 and rest["Truncated"] is False
    body = raw(client, "list_aliases")
    assert len(body["Aliases"]) == 14 and body["Truncated"] is False


# --- 5. AWS-managed keys ------------------------------------------------------------------

@check
def aws_managed_keys_and_predefined_aliases():
    client = kms("sa-east-1")
    aliases = client.list_aliases()["Aliases"]
    reserved = [a for a in aliases if a["AliasName"].startswith("alias/aws/")]
    assert len(reserved) == 14 and all("TargetKeyId" not in a for a in reserved), reserved
    ebs = meta(client, "alias/aws/ebs")
    assert ebs["KeyManager"] == "AWS" and "EBS" in ebs["Description"], ebs
    assert ebs["KeyState"] == "Enabled" and ebs["Origin"] == "AWS_KMS"
    by_name = {a["AliasName"]: a for a in client.list_aliases()["Aliases"]}
    assert by_name["alias/aws/ebs"]["TargetKeyId"] == ebs["KeyId"]
    assert "TargetKeyId" not in by_name["alias/aws/s3"]
    assert ebs["KeyId"] in [k["KeyId"] for k in client.list_keys()["Keys"]]
    status = client.get_key_rotation_status(KeyId=ebs["KeyId"])
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 365
    policy = json.loads(client.get_key_policy(KeyId=ebs["KeyId"], PolicyName="default")["Policy"])
    assert "ec2.sa-east-1.amazonaws.com" in json.dumps(policy)
    assert meta(client, "alias/aws/ebs")["KeyId"] == ebs["KeyId"]  # created once
    assert meta(kms("us-west-2"), "alias/aws/s3")["KeyManager"] == "AWS"


# --- 6. Other DescribeKey / ListGrants fidelity ---------------------------------------------

@check
def deletion_state_and_date():
    client = kms()
    kid = new_key(client)["KeyId"]
    assert "DeletionDate" not in raw(client, "describe_key", KeyId=kid)["KeyMetadata"]
    assert error_of(client.schedule_key_deletion, KeyId=kid, PendingWindowInDays=6)[0] == "ValidationException"
    assert meta(client, kid)["KeyState"] == "Enabled"
    client.schedule_key_deletion(KeyId=kid, PendingWindowInDays=7)
    m = raw(client, "describe_key", KeyId=kid)["KeyMetadata"]
    assert m["KeyState"] == "PendingDeletion" and m["Enabled"] is False
    assert abs(m["DeletionDate"] - (time.time() + 7 * 86400)) < 60
    client.cancel_key_deletion(KeyId=kid)
    m = raw(client, "describe_key", KeyId=kid)["KeyMetadata"]
    assert m["KeyState"] == "Disabled" and "DeletionDate" not in m


@check
def key_metadata_has_no_nulls():
    client = kms()
    m = raw(client, "create_key")["KeyMetadata"]
    assert m["KeyUsage"] == "ENCRYPT_DECRYPT" and m["KeyManager"] == "CUSTOMER"
    for params in ({}, {"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"},
                   {"KeySpec": "HMAC_384", "KeyUsage": "GENERATE_VERIFY_MAC"}):
        kid = new_key(client, **params)["KeyId"]
        m = raw(client, "describe_key", KeyId=kid)["KeyMetadata"]
        assert None not in m.values(), m
    assert "EncryptionAlgorithms" not in m and m["MacAlgorithms"] == ["HMAC_SHA_384"]
    cks = new_key(client, Origin="AWS_CLOUDHSM", CustomKeyStoreId="cks-1234567890abcdef0")
    assert meta(client, cks["KeyId"])["CustomKeyStoreId"] == "cks-1234567890abcdef0"


@check
def grants_look_like_aws():
    client = kms("eu-west-1")
    key = new_key(client)
    client.create_grant(KeyId=key["KeyId"], GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:role/x",
                        Operations=["Decrypt", "Encrypt"])
    (grant,) = raw(client, "list_grants", KeyId=key["Arn"])["Grants"]
    assert grant["KeyId"] == key["Arn"] and grant["IssuingAccount"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert isinstance(grant["CreationDate"], float) and None not in grant.values(), grant
    assert "Name" not in grant and grant["Operations"] == ["Decrypt", "Encrypt"]
    missing = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    assert error_of(client.list_grants, KeyId=missing)[0] == "NotFoundException"


@check
def other_services_share_the_port():
    sts = boto3.client("sts", region_name="us-east-1", endpoint_url=state["url"],
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    assert sts.get_caller_identity()["Account"] == ACCOUNT


def _asff(finding_id, account=ACCOUNT, region="eu-west-1", **fields):
    finding = {
        "SchemaVersion": "2018-10-08", "Id": finding_id,
        "ProductArn": f"arn:aws:securityhub:{region}:{account}:product/{account}/default",
        "GeneratorId": "selftest", "AwsAccountId": account,
        "CreatedAt": "2026-01-01T00:00:00Z", "UpdatedAt": "2026-01-01T00:00:00Z",
        "Title": "t", "Description": "d",
        "FindingProviderFields": {"Severity": {"Label": "LOW"}, "Types": ["Software and Configuration Checks"]},
        "Resources": [{"Type": "Other", "Id": "r"}],
        "Workflow": {"Status": "NEW"}, "RecordState": "ACTIVE",
    }
    finding.update(fields)
    return finding


@check
def securityhub_imports_only_the_callers_own_findings():
    hub = boto3.client("securityhub", region_name="eu-west-1", endpoint_url=state["url"],
                       aws_access_key_id="testing", aws_secret_access_key="testing",
                       config=Config(parameter_validation=False))
    answer = hub.batch_import_findings(Findings=[
        _asff("mine"),
        _asff("other-account", account="111111111111"),
        _asff("other-region", region="us-east-1"),
        {k: v for k, v in _asff("no-title").items() if k != "Title"},
        _asff("too-big", Description="x" * (241 * 1024)),
    ])
    assert answer["SuccessCount"] == 1, answer
    refused = {f["Id"]: f["ErrorCode"] for f in answer["FailedFindings"]}
    assert refused == {"other-account": "AccessDeniedException",
                       "other-region": "AccessDeniedException",
                       "no-title": "InvalidInput", "too-big": "InvalidInput"}, refused
    code, status = error_of(hub.batch_import_findings,
                            Findings=[_asff(f"f{i}") for i in range(101)])
    assert (code, status) == ("InvalidInputException", 400), (code, status)
    # A re-import replaces the finding but keeps the customer's workflow.
    hub.batch_import_findings(Findings=[_asff("mine", Workflow={"Status": "RESOLVED"},
                                              RecordState="ARCHIVED")])
    stored = hub.get_findings()["Findings"]
    assert [(f["Id"], f["RecordState"], f["Workflow"]["Status"]) for f in stored] == \
        [("mine", "ARCHIVED", "NEW")], stored


# --- runner -------------------------------------------------------------------------------

def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, LAUNCHER, "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE, text=True)
    passed = failed = 0
    try:
        line = proc.stdout.readline().strip()
        expected = f"kms-audit emulator listening on http://127.0.0.1:{port}"
        assert line == expected, f"ready line {line!r}"
        state["url"] = f"http://127.0.0.1:{port}"
        for fn in CHECKS:
            try:
                reset()
                fn()
                passed += 1
                print(f"ok   {fn.__name__}")
            except Exception:
                failed += 1
                print(f"FAIL {fn.__name__}\n{traceback.format_exc()}")
    finally:
        proc.terminate()  # SIGTERM
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = "timeout"
    if code == 0:
        passed += 1
        print("ok   exits_cleanly_on_sigterm")
    else:
        failed += 1
        print(f"FAIL exits_cleanly_on_sigterm (exit {code})")
    print(f"emulator selftest: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
