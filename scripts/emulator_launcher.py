#!/usr/bin/env python3
"""kms-audit test emulator: moto 5.2.5 in server mode, with KMS patched to answer like AWS.

    python scripts/emulator_launcher.py --host 127.0.0.1 --port PORT [--verbose]

All moto services (KMS, STS, Organizations, IAM, ...) share the one port. Once the socket
accepts connections it prints exactly one stdout line (flushed):
    kms-audit emulator listening on http://HOST:PORT
(with --port 0 the port the OS chose is printed). SIGTERM/SIGINT shut it down with exit 0.
Request logging goes to stderr only with --verbose.

Patches (one function each, applied by apply_patches()):
  patch_replicate_key      ReplicaKey is an independent key; MultiRegionConfiguration computed live
  patch_key_metadata       MultiRegion is a bool, KeyUsage defaults, no nulls, MAC/custom-store fields
  patch_rotation           unsupported keys, RotationPeriodInDays, NextRotationDate, pending deletion
  patch_pagination         Limit/Marker/Truncated/NextMarker on ListKeys/Aliases/Grants/ResourceTags
  patch_aws_managed_keys   alias/aws/* keys are KeyManager AWS, rotating; unborn aliases lack a target
  patch_grants             grant entries carry key ARN, IssuingAccount, CreationDate, no nulls
  patch_schedule_deletion  PendingWindowInDays outside 7..30 is a ValidationException
  patch_securityhub        BatchImportFindings: at most 100 findings, required ASFF fields, 240 KB
                           per finding, only the caller's own account and region, and a re-import
                           by Id replaces the finding but keeps its Workflow, Note,
                           UserDefinedFields and VerificationState

Left unpatched (moto still differs from AWS; none of it changes what the scanner reads today):
  - Origin EXTERNAL keys start Enabled (AWS: PendingImport; moto has no ImportKeyMaterial),
    and DescribeKey has no ExpirationModel/ValidTo; AWS_CLOUDHSM keys have no CloudHsmClusterId.
  - No key-state checks on writes: EnableKeyRotation on a Disabled key (AWS: DisabledException),
    EnableKey on a PendingDeletion key, deleting AWS-managed keys, etc. all succeed.
  - ScheduleKeyDeletion of a multi-Region primary with replicas gives PendingDeletion, not
    PendingReplicaDeletion; UpdatePrimaryRegion is not implemented by moto.
  - ListAliases entries have no CreationDate/LastUpdatedDate; ListGrants ignores GranteePrincipal.
  - Key policies are not validated (no MalformedPolicyDocumentException); GetKeyPolicy still
    requires PolicyName "default" (AWS defaults it).
  - Keys never leave PendingDeletion (no real deletion when DeletionDate passes).
"""
import argparse
import base64
import json
import logging
import os
import signal
import sys
import threading
from copy import copy

from moto.core.exceptions import JsonRESTError
from moto.core.utils import unix_time
from moto.kms.exceptions import AlreadyExistsException, ValidationException
from moto.kms.models import Grant, Key, KmsBackend, kms_backends
from moto.kms.responses import KmsResponse
from moto.kms.utils import RESERVED_ALIASES
from moto.utilities.utils import get_partition

PENDING_STATES = ("PendingDeletion", "PendingReplicaDeletion")
DAY = 86400


# --- helpers -----------------------------------------------------------------------------

def _error(error_type, message):
    """An AWS JSON-protocol error: HTTP 400, {"__type": ..., "message": ...}."""
    return JsonRESTError(error_type, message)


def _cmk(response, key_id):
    """The key named by a key ID or key ARN (aliases rejected, as those APIs do in AWS)."""
    response._validate_cmk_id(key_id)
    return response.kms_backend.keys[response.kms_backend.get_key_id(key_id)]


def _check_range(name, value, low, high):
    """AWS's ValidationException for an integer parameter outside [low, high]."""
    if not isinstance(value, int) or not low <= value <= high:
        raise ValidationException(
            f"1 validation error detected: Value '{value}' at '{name}' failed to satisfy "
            f"constraint: Member must have value between {low} and {high}")


def _without_nulls(record):
    return {k: v for k, v in record.items() if v is not None}


def _mrk_type(key):
    return key.multi_region_configuration["MultiRegionKeyType"]


def _mrk_primary(key):
    """The primary key of a multi-Region replica (None if gone), else the key itself."""
    if not key.multi_region or _mrk_type(key) == "PRIMARY":
        return key
    region = key.multi_region_configuration["PrimaryKey"]["Region"]
    return kms_backends[key.account_id][region].keys.get(key.id)


def _mrk_replicas(key):
    """All replicas of the key's primary, found by scanning the account's regional backends."""
    primary_arn = key.multi_region_configuration["PrimaryKey"]["Arn"]
    peers = [b.keys.get(key.id) for b in list(kms_backends[key.account_id].values())]
    replicas = [
        p for p in peers
        if p is not None and p.multi_region and _mrk_type(p) == "REPLICA"
        and p.multi_region_configuration["PrimaryKey"]["Arn"] == primary_arn
    ]
    return sorted(replicas, key=lambda p: (p.creation_date, p.region))


MAX_PAGE_SIZE = 0  # 0: pages as large as Limit allows


def _page(response, items, default_limit):
    """Slices one page out of items per Limit/Marker; returns (page, Truncated/NextMarker)."""
    limit = response._get_param("Limit", default_limit)
    _check_range("limit", limit, 1, 1000)
    marker, start = response._get_param("Marker"), 0
    if marker is not None:
        try:
            start = int(base64.urlsafe_b64decode(marker.encode()).decode().split(":")[1])
        except (ValueError, IndexError, UnicodeDecodeError):
            raise _error("InvalidMarkerException", "Invalid marker") from None
    # AWS may return fewer items than Limit on a truncated page; --max-page-size does that so
    # small estates still exercise a client's pagination.
    end = start + min(limit, MAX_PAGE_SIZE or limit)
    if end >= len(items):
        return items[start:], {"Truncated": False}
    next_marker = base64.urlsafe_b64encode(f"offset:{end}".encode()).decode()
    return items[start:end], {"Truncated": True, "NextMarker": next_marker}


# --- patches ------------------------------------------------------------------------------

def patch_replicate_key():
    """ReplicateKey makes an independent replica, as in AWS.

    moto shallow-copies the primary, so aliases, grants and the MultiRegionConfiguration dict
    are shared (the primary then reports REPLICA). In AWS a replica shares only key ID, key
    material, spec, usage, origin and rotation; it has its own policy (param or the default
    policy), description (param or the primary's), tags (param only), aliases and grants.
    ReplicaKeys is computed at describe time, so every key of the set lists all replicas.
    """
    def replicate_key(self):
        key_id, region = self._get_param("KeyId"), self._get_param("ReplicaRegion")
        self._validate_key_id(key_id)
        primary = self.kms_backend.describe_key(key_id)
        if not primary.multi_region or _mrk_type(primary) != "PRIMARY":
            raise _error("UnsupportedOperationException",
                         f"{primary.arn} is not a multi-Region primary key.")
        if region == primary.region:
            raise ValidationException(f"Replica region {region} is the primary key's region.")
        target = kms_backends[primary.account_id][region]
        if primary.id in target.keys:
            raise AlreadyExistsException(f"A replica of {primary.arn} already exists in {region}.")
        replica = copy(primary)
        replica.region = region
        replica.arn = f"arn:{get_partition(region)}:kms:{region}:{primary.account_id}:key/{primary.id}"
        replica.creation_date = unix_time()
        replica.key_state, replica.enabled, replica.deletion_date = "Enabled", True, None
        replica.aliases, replica.grants, replica.rotations = {}, {}, []
        description = self._get_param("Description")
        replica.description = primary.description if description is None else description
        replica.policy = self._get_param("Policy") or replica.generate_default_policy()
        replica.multi_region_configuration = {
            "MultiRegionKeyType": "REPLICA",
            "PrimaryKey": {"Arn": primary.arn, "Region": primary.region},
            "ReplicaKeys": [],
        }
        target.keys[replica.id] = replica
        tags = self._get_param("Tags") or []
        if tags:
            target.tagger.tag_resource(replica.id, tags)
        return json.dumps({
            "ReplicaKeyMetadata": replica.to_dict()["KeyMetadata"],
            "ReplicaPolicy": replica.policy,
            "ReplicaTags": tags,
        })

    KmsResponse.replicate_key = replicate_key


def patch_key_metadata():
    """KeyMetadata as AWS returns it.

    MultiRegion is always a boolean (moto: null when CreateKey omits it); KeyUsage defaults to
    ENCRYPT_DECRYPT (moto: null); MultiRegionConfiguration reflects the live key set; absent
    fields are omitted rather than null; HMAC keys list MacAlgorithms instead of RSA encryption
    algorithms; CustomKeyStoreId / XksKeyConfiguration given to CreateKey are reported.
    """
    original_create_key, original_to_dict = KmsBackend.create_key, Key.to_dict
    original_create_response = KmsResponse.create_key

    def create_key(self, policy, key_usage, key_spec, description, tags,
                   multi_region=False, origin="AWS_KMS"):
        return original_create_key(self, policy, key_usage or "ENCRYPT_DECRYPT", key_spec,
                                   description, tags, bool(multi_region), origin or "AWS_KMS")

    def create_key_response(self):
        body = json.loads(original_create_response(self))
        key = self.kms_backend.keys[body["KeyMetadata"]["KeyId"]]
        key.custom_key_store_id = self._get_param("CustomKeyStoreId")
        key.xks_key_id = self._get_param("XksKeyId")
        return json.dumps(key.to_dict())

    def to_dict(self):
        meta = original_to_dict(self)["KeyMetadata"]
        meta["MultiRegion"] = bool(self.multi_region)
        if self.multi_region:
            own = self.multi_region_configuration
            meta["MultiRegionConfiguration"] = {
                "MultiRegionKeyType": own["MultiRegionKeyType"],
                "PrimaryKey": dict(own["PrimaryKey"]),
                "ReplicaKeys": [{"Arn": r.arn, "Region": r.region} for r in _mrk_replicas(self)],
            }
        if self.key_usage == "GENERATE_VERIFY_MAC":
            meta["EncryptionAlgorithms"] = None
            meta["MacAlgorithms"] = ["HMAC_SHA_" + self.key_spec.split("_")[1]]
        meta["CustomKeyStoreId"] = getattr(self, "custom_key_store_id", None)
        if getattr(self, "xks_key_id", None):
            meta["XksKeyConfiguration"] = {"Id": self.xks_key_id}
        return {"KeyMetadata": _without_nulls(meta)}

    KmsBackend.create_key = create_key
    KmsResponse.create_key = create_key_response
    Key.to_dict = to_dict


def patch_rotation():
    """Automatic rotation as AWS implements it.

    Only SYMMETRIC_DEFAULT keys with Origin AWS_KMS outside custom key stores rotate: for the
    rest Enable/GetKeyRotationStatus raise UnsupportedOperationException. EnableKeyRotation takes
    RotationPeriodInDays (90..2560, default 365). GetKeyRotationStatus returns KeyId (ARN) and,
    when enabled, RotationPeriodInDays and NextRotationDate (enabled time + period). A key
    pending deletion reports false but keeps its setting, so CancelKeyDeletion restores it.
    Rotation is shared by a multi-Region set: replicas report the primary's state and can't
    change it (UnsupportedOperationException).
    """
    def rotatable(key, replica_ok):
        if (key.key_spec != "SYMMETRIC_DEFAULT" or key.origin != "AWS_KMS"
                or getattr(key, "custom_key_store_id", None)):
            raise _error("UnsupportedOperationException",
                         f"{key.arn} origin or key spec is not supported for automatic rotation.")
        if not replica_ok and key.multi_region and _mrk_type(key) == "REPLICA":
            raise _error("UnsupportedOperationException",
                         f"{key.arn} is a multi-Region replica key; set rotation on the primary.")
        return key

    def enable_key_rotation(self):
        key = rotatable(_cmk(self, self._get_param("KeyId")), replica_ok=False)
        period = self._get_param("RotationPeriodInDays", 365)
        _check_range("rotationPeriodInDays", period, 90, 2560)
        if not key.key_rotation_status:
            key.rotation_enabled_at = unix_time()
        key.key_rotation_status, key.rotation_period_in_days = True, period
        return json.dumps(None)

    def disable_key_rotation(self):
        key = rotatable(_cmk(self, self._get_param("KeyId")), replica_ok=False)
        key.key_rotation_status = False
        key.rotation_period_in_days = key.rotation_enabled_at = None
        return json.dumps(None)

    def get_key_rotation_status(self):
        key = rotatable(_cmk(self, self._get_param("KeyId")), replica_ok=True)
        owner = _mrk_primary(key) or key
        enabled = bool(owner.key_rotation_status) and key.key_state not in PENDING_STATES
        body = {"KeyId": key.arn, "KeyRotationEnabled": enabled}
        if enabled:
            period = getattr(owner, "rotation_period_in_days", None) or 365
            start = getattr(owner, "rotation_enabled_at", None) or owner.creation_date
            body.update(RotationPeriodInDays=period, NextRotationDate=start + period * DAY)
        return json.dumps(body)

    KmsResponse.enable_key_rotation = enable_key_rotation
    KmsResponse.disable_key_rotation = disable_key_rotation
    KmsResponse.get_key_rotation_status = get_key_rotation_status


def patch_pagination():
    """Limit/Marker paging, as AWS does.

    moto returns everything with Truncated false (and NextMarker null). Limit is 1..1000
    (defaults: ListKeys 1000, ListAliases 100, ListGrants and ListResourceTags 50); a truncated
    page carries an opaque NextMarker, a final page has no NextMarker at all.
    """
    def list_keys(self):
        page, more = _page(self, list(self.kms_backend.list_keys()), 1000)
        return json.dumps({"Keys": [{"KeyId": k.id, "KeyArn": k.arn} for k in page], **more})

    def list_aliases(self):
        key_id = self._get_param("KeyId")
        if key_id is not None:
            self._validate_key_id(key_id)
            key_id = self.kms_backend.get_key_id(key_id)
        aliases = [
            {"AliasName": a.alias_name, "AliasArn": a.alias_arn, "TargetKeyId": a.target_key_id}
            for a in self.kms_backend.list_aliases(key_id=key_id)
        ]
        if key_id is None:  # predefined aliases exist even before their AWS-managed key does
            known = {a["AliasName"] for a in aliases}
            partition, region = get_partition(self.region), self.region
            aliases += [
                {"AliasName": name,
                 "AliasArn": f"arn:{partition}:kms:{region}:{self.current_account}:{name}"}
                for name in RESERVED_ALIASES if name not in known
            ]
        page, more = _page(self, aliases, 100)
        return json.dumps({"Aliases": page, **more})

    def list_resource_tags(self):
        key = _cmk(self, self._get_param("KeyId"))
        tags = self.kms_backend.list_resource_tags(key.id)["Tags"]
        page, more = _page(self, tags, 50)
        return json.dumps({"Tags": page, **more})

    def list_grants(self):
        key = _cmk(self, self._get_param("KeyId"))
        grants = key.list_grants(self._get_param("GrantId"))
        page, more = _page(self, grants, 50)
        return json.dumps({"Grants": [_grant_entry(g, key) for g in page], **more})

    KmsResponse.list_keys = list_keys
    KmsResponse.list_aliases = list_aliases
    KmsResponse.list_resource_tags = list_resource_tags
    KmsResponse.list_grants = list_grants


AWS_MANAGED = {  # alias/aws/<name> -> what the key protects (its service is <name>, ebs: ec2)
    "acm": "ACM private keys", "dynamodb": "DynamoDB tables", "ebs": "EBS volumes",
    "elasticfilesystem": "EFS file systems", "es": "Elasticsearch domains", "glue": "Glue data",
    "kinesisvideo": "Kinesis Video Streams data", "lambda": "Lambda functions",
    "rds": "RDS database volumes", "redshift": "Redshift clusters", "s3": "S3 objects",
    "secretsmanager": "Secrets Manager secrets", "ssm": "SSM parameters", "xray": "X-Ray traces",
}
_default_key_lock = threading.Lock()


def patch_aws_managed_keys():
    """AWS-managed keys behind alias/aws/* look like AWS's.

    moto creates them lazily (on first reference to the alias) as CUSTOMER keys described
    "Default key". AWS-managed keys have KeyManager AWS, a "Default master key that protects
    my ..." description, a service-scoped key policy and yearly rotation. A predefined alias
    whose key was never created is listed without TargetKeyId (see patch_pagination).
    """
    def _generate_default_keys(self, alias_name):
        if alias_name not in RESERVED_ALIASES:
            return None
        with _default_key_lock:  # two concurrent first references must not make two keys
            for key in list(self.keys.values()):
                if alias_name in key.aliases:
                    return key.id
            name = alias_name.split("/")[-1]
            key = self.create_key(
                None, "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", "Default master key that protects"
                f" my {AWS_MANAGED.get(name, 'data')} when no other key is defined", None)
            key.key_manager = "AWS"
            key.key_rotation_status, key.rotation_period_in_days = True, 365
            key.rotation_enabled_at = key.creation_date
            key.policy = _aws_managed_policy(key, name, "ec2" if name == "ebs" else name)
            self.create_alias(key.id, alias_name)
            return key.id

    KmsBackend._generate_default_keys = _generate_default_keys


def _aws_managed_policy(key, name, service):
    """The shape of AWS's auto-<name> policy: use via <service> by the account, direct reads."""
    via = {"kms:CallerAccount": key.account_id,
           "kms:ViaService": f"{service}.{key.region}.amazonaws.com"}
    return json.dumps({"Version": "2012-10-17", "Id": f"auto-{name}-1", "Statement": [
        {"Sid": f"Allow access through {service} for all principals in the account that are "
                f"authorized to use {service}",
         "Effect": "Allow", "Principal": {"AWS": "*"}, "Resource": "*",
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                    "kms:CreateGrant", "kms:DescribeKey"],
         "Condition": {"StringEquals": via}},
        {"Sid": "Allow direct access to key metadata to the account",
         "Effect": "Allow",
         "Principal": {"AWS": f"arn:{get_partition(key.region)}:iam::{key.account_id}:root"},
         "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
         "Resource": "*"},
    ]}, indent=2)


def _grant_entry(grant, key):
    entry = grant.to_json()
    entry.update(
        KeyId=key.arn,
        IssuingAccount=f"arn:{get_partition(key.region)}:iam::{key.account_id}:root",
        CreationDate=getattr(grant, "creation_date", None),
    )
    return _without_nulls({k: (v or None) for k, v in entry.items()})


def patch_grants():
    """ListGrants entries as AWS returns them: KeyId is the key ARN, IssuingAccount and
    CreationDate are present, and unset Name/RetiringPrincipal/Constraints are omitted instead
    of null. (Paging and the NotFoundException for unknown keys are in patch_pagination.)
    """
    original_init = Grant.__init__

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.creation_date = unix_time()

    Grant.__init__ = __init__


def patch_schedule_deletion():
    """ScheduleKeyDeletion rejects PendingWindowInDays outside 7..30 with ValidationException
    (moto silently schedules nothing and returns DeletionDate null)."""
    original = KmsBackend.schedule_key_deletion

    def schedule_key_deletion(self, key_id, pending_window_in_days):
        _check_range("pendingWindowInDays", pending_window_in_days, 7, 30)
        return original(self, key_id, pending_window_in_days)

    KmsBackend.schedule_key_deletion = schedule_key_deletion


ASFF_REQUIRED = ("SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "CreatedAt",
                 "UpdatedAt", "Title", "Description", "Resources")
# What a finding provider cannot change once the finding exists (the customer's workflow).
ASFF_CUSTOMER_FIELDS = ("Workflow", "Note", "UserDefinedFields", "VerificationState")
ASFF_MAX_FINDING_BYTES = 240 * 1024


def _asff_problem(backend, finding):
    """(ErrorCode, message) for a finding Security Hub would refuse, else None."""
    if not isinstance(finding, dict):
        return "InvalidInput", "a finding must be an object"
    for field in ASFF_REQUIRED:
        if finding.get(field) in (None, "", []):
            return "InvalidInput", f"Finding is missing the required field {field}"
    provider = finding.get("FindingProviderFields") or {}
    for field in ("Severity", "Types"):
        if not finding.get(field) and not provider.get(field):
            return "InvalidInput", f"Finding is missing {field} (top level or FindingProviderFields)"
    if len(json.dumps(finding, separators=(",", ":"))) > ASFF_MAX_FINDING_BYTES:
        return "InvalidInput", "Finding exceeds the maximum size of 240 KB"
    # Security Hub takes a custom integration's finding only from the account it belongs to, in
    # the region of its product ARN (allow-listed partners aside).
    arn = str(finding["ProductArn"]).split(":")
    if len(arn) < 6 or arn[2] != "securityhub":
        return "InvalidInput", f"Invalid ProductArn {finding['ProductArn']}"
    if finding["AwsAccountId"] != backend.account_id or arn[4] != backend.account_id:
        return ("AccessDeniedException",
                f"account {backend.account_id} cannot import findings of account "
                f"{finding['AwsAccountId']} (product {finding['ProductArn']})")
    if arn[3] != backend.region_name:
        return ("AccessDeniedException",
                f"the product {finding['ProductArn']} is not in the request's region "
                f"{backend.region_name}")
    return None


def patch_securityhub():
    """BatchImportFindings takes what AWS takes (moto stores anything, from anyone, and merges a
    re-import into the old finding): at most 100 findings per request (else
    InvalidInputException), each with the required ASFF fields, at most 240 KB, and belonging to
    the calling account and region (else listed in FailedFindings). A re-import with a known Id
    replaces the finding's provider fields but keeps what the customer owns (Workflow, Note,
    UserDefinedFields, VerificationState), as AWS does."""
    from moto.securityhub.exceptions import InvalidInputException
    from moto.securityhub.models import Finding, SecurityHubBackend

    def batch_import_findings(self, findings):
        if not isinstance(findings, list) or not 1 <= len(findings) <= 100:
            raise InvalidInputException(op="BatchImportFindings",
                                        msg="Findings must hold between 1 and 100 findings")
        failed, success = [], 0
        for finding in findings:
            problem = _asff_problem(self, finding)
            finding_id = finding.get("Id", "") if isinstance(finding, dict) else ""
            if problem:
                failed.append({"Id": finding_id, "ErrorCode": problem[0],
                               "ErrorMessage": problem[1]})
                continue
            existing = next((f for f in self.findings if f.id == finding_id), None)
            if existing is None:
                self.findings.append(Finding(finding_id, dict(finding)))
            else:
                kept = {k: existing.data[k] for k in ASFF_CUSTOMER_FIELDS if k in existing.data}
                existing.data = {**finding, **kept}
            success += 1
        return len(failed), success, failed

    SecurityHubBackend.batch_import_findings = batch_import_findings


def apply_patches():
    for patch in (patch_replicate_key, patch_key_metadata, patch_rotation, patch_pagination,
                  patch_aws_managed_keys, patch_grants, patch_schedule_deletion,
                  patch_securityhub):
        patch()


# --- server -------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True, help="0 lets the OS choose")
    parser.add_argument("--verbose", action="store_true", help="log requests to stderr")
    parser.add_argument("--max-page-size", type=int, default=0,
                        help="at most this many items per List* page, whatever the Limit")
    args = parser.parse_args(argv)
    global MAX_PAGE_SIZE
    MAX_PAGE_SIZE = max(0, args.max_page_size)

    apply_patches()
    # Imported after patching; this is what moto_server itself serves (all services, one port).
    from werkzeug.serving import make_server
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication, MotoRequestHandler, create_backend_app)

    logging.getLogger("werkzeug").setLevel(logging.INFO if args.verbose else logging.WARNING)
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(args.host, args.port, app, threaded=True,
                         request_handler=MotoRequestHandler)  # bound and listening on return
    port = server.server_port
    os.environ.setdefault("MOTO_PORT", str(port))  # moto builds some URLs from it

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    worker = threading.Thread(target=server.serve_forever, name="moto-server", daemon=True)
    worker.start()
    print(f"kms-audit emulator listening on http://{args.host}:{port}", flush=True)
    while not stop.wait(0.5):
        if not worker.is_alive():
            return 1
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
