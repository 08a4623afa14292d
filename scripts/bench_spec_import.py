#!/usr/bin/env python3
"""Writes a synthetic `terraform show -json` of KEYS KMS keys (Terraform's JSON output format),
about 5 KB per key as real states are: per key an aws_kms_key with a 2-statement policy, tags and
tags_all, an aws_kms_alias, every other key also an aws_kms_key_policy; keys spread over
for_each instances in 20 modules (two deep), 50 accounts and 4 regions; plus non-KMS resources
(an S3 bucket for every other key) that the importer skips. Output is compact, as `terraform show -json` writes it.

    python3 scripts/bench_spec_import.py KEYS OUT.json
"""
import json
import sys

keys = int(sys.argv[1])
out = sys.argv[2]
regions = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"]
provider = "registry.terraform.io/hashicorp/aws"


def policy(account, n):
    return json.dumps({
        "Version": "2012-10-17", "Id": f"key-{n}",
        "Statement": [
            {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*",
             "Resource": "*"},
            {"Sid": "AllowService", "Effect": "Allow",
             "Principal": {"AWS": [f"arn:aws:iam::{account}:role/service-{n % 97}",
                                   f"arn:aws:iam::{account}:role/batch-{n % 89}"]},
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*",
                        "kms:GenerateDataKey*", "kms:DescribeKey"],
             "Resource": "*",
             "Condition": {"StringEquals": {
                 "kms:ViaService": [f"s3.{regions[n % 4]}.amazonaws.com",
                                    f"dynamodb.{regions[n % 4]}.amazonaws.com"],
                 "kms:CallerAccount": account}}},
            {"Sid": "Allow access for Key Administrators", "Effect": "Allow",
             "Principal": {"AWS": [f"arn:aws:iam::{account}:role/kms-admin",
                                   f"arn:aws:iam::{account}:role/platform-breakglass"]},
             "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*",
                        "kms:Put*", "kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*",
                        "kms:Delete*", "kms:TagResource", "kms:UntagResource",
                        "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
                        "kms:RotateKeyOnDemand"],
             "Resource": "*"},
            {"Sid": "Allow attachment of persistent resources", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{account}:role/service-{n % 97}"},
             "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
             "Resource": "*", "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
        ]})


modules = {}
for n in range(keys):
    account = f"{100000000000 + n % 50:012d}"
    region = regions[(n // 50) % 4]
    key_id = f"{n:08x}-0000-4000-8000-{n:012x}"
    arn = f"arn:aws:kms:{region}:{account}:key/{key_id}"
    module = f"module.team{n % 20}.module.keys"
    index = f"key-{n}"
    tags = {"owner": f"team-{n % 20}", "env": "prod", "cost-center": f"{1000 + n % 300}",
            "data-class": ["internal", "confidential", "pci"][n % 3],
            "application": f"service-{n % 97}", "repository": f"github.com/acme/infra-{n % 20}",
            "backup": "daily", "compliance": "soc2"}
    resources = modules.setdefault(module, [])
    resources.append({
        "address": f'{module}.aws_kms_key.this["{index}"]', "mode": "managed",
        "type": "aws_kms_key", "name": "this", "index": index, "provider_name": provider,
        "schema_version": 0,
        "values": {"arn": arn, "bypass_policy_lockout_safety_check": False,
                   "custom_key_store_id": "", "customer_master_key_spec": "SYMMETRIC_DEFAULT",
                   "deletion_window_in_days": 30,
                   "description": f"Data key {n} for team {n % 20} ({region}): S3 objects and DynamoDB tables",
                   "enable_key_rotation": n % 3 != 0, "id": key_id, "is_enabled": True,
                   "key_id": key_id, "key_usage": "ENCRYPT_DECRYPT", "multi_region": False,
                   "policy": policy(account, n),
                   "rotation_period_in_days": 365 if n % 3 else 0, "region": region,
                   "tags": tags, "tags_all": dict(tags, managed_by="terraform"),
                   "timeouts": None, "xks_key_id": ""},
        "sensitive_values": {"tags": {}, "tags_all": {}}})
    resources.append({
        "address": f'{module}.aws_kms_alias.this["{index}"]', "mode": "managed",
        "type": "aws_kms_alias", "name": "this", "index": index, "provider_name": provider,
        "schema_version": 0,
        "values": {"arn": f"arn:aws:kms:{region}:{account}:alias/team{n % 20}/key-{n}",
                   "id": f"alias/team{n % 20}/key-{n}", "name": f"alias/team{n % 20}/key-{n}",
                   "name_prefix": "", "region": region, "target_key_arn": arn,
                   "target_key_id": key_id},
        "sensitive_values": {}, "depends_on": [f'{module}.aws_kms_key.this["{index}"]']})
    if n % 2 == 0:
        resources.append({
            "address": f'{module}.aws_kms_key_policy.this["{index}"]', "mode": "managed",
            "type": "aws_kms_key_policy", "name": "this", "index": index,
            "provider_name": provider, "schema_version": 0,
            "values": {"bypass_policy_lockout_safety_check": False, "id": key_id,
                       "key_id": key_id, "policy": policy(account, n), "region": region},
            "sensitive_values": {}})
    if n % 2 == 1:
        resources.append({
            "address": f'{module}.aws_s3_bucket.data["{index}"]', "mode": "managed",
            "type": "aws_s3_bucket", "name": "data", "index": index, "provider_name": provider,
            "schema_version": 0,
            "values": {"bucket": f"data-{n}", "arn": f"arn:aws:s3:::data-{n}",
                       "tags": tags, "force_destroy": False},
            "sensitive_values": {"tags": {}}})

children = {}
for module, resources in sorted(modules.items()):
    parent = module.rsplit(".module.", 1)[0]
    children.setdefault(parent, []).append({"address": module, "resources": resources})
root = {"resources": [], "child_modules": [
    {"address": parent, "resources": [], "child_modules": kids}
    for parent, kids in sorted(children.items())]}
doc = {"format_version": "1.0", "terraform_version": "1.9.8",
       "values": {"outputs": {}, "root_module": root}}
with open(out, "w") as f:
    json.dump(doc, f, separators=(",", ":"))
