//! Reading one key: DescribeKey, then the calls that apply to it, concurrently. Tags come from
//! the region's tag listing when it has the key (see [`super::tags`]).
//!
//! A call that fails marks its field unknown and records a coverage gap; the key is always kept.

use crate::model::{CoverageGap, Grant, KeyRecord, Rotation};
use crate::scan::aws::CallError;
use crate::scan::collect::pace::Operation;

use super::TargetScan;
use super::convert::{self, rotation_applies};
use crate::scan::aws::paginate::{Page, all_pages};

/// AWS-managed keys rotate every year by definition; no call is needed to know it.
const AWS_MANAGED_ROTATION_DAYS: u32 = 365;
const GRANTS_PAGE: i32 = 100;

/// Collects everything about one key; returns the record and the gaps met on the way.
pub async fn collect_key(
    scan: &TargetScan,
    key_id: &str,
    arn: &str,
    aliases: Option<Vec<String>>,
    listed_tags: Option<crate::model::Tags>,
) -> (KeyRecord, Vec<CoverageGap>) {
    let mut record = KeyRecord {
        arn: arn.to_string(),
        key_id: key_id.to_string(),
        account: scan.account.as_str().into(),
        region: scan.region.name.into(),
        aliases: aliases.clone().unwrap_or_default(),
        ..KeyRecord::default()
    };
    let mut gaps = Vec::new();
    if aliases.is_none() {
        record.unknown.push("aliases".into());
    }

    let metadata_known = describe(scan, arn, &mut record, &mut gaps).await;
    if !metadata_known {
        record.unknown.push("metadata".into());
    }

    let aws_managed = record.key_manager.as_deref() == Some("AWS");
    let wants_rotation = metadata_known && rotation_applies(&record);
    // Tags and grants are read for customer keys, and for keys whose manager is unknown
    // (DescribeKey failed): better one wasted call than a silently missing field.
    let wants_customer_fields = !aws_managed;

    let reads = Reads::of(
        scan,
        arn,
        listed_tags,
        wants_customer_fields,
        wants_rotation,
    )
    .await;
    reads.apply(scan, arn, metadata_known, &mut record, &mut gaps);
    (record, gaps)
}

/// DescribeKey into the record; whether the key's metadata is known.
async fn describe(
    scan: &TargetScan,
    arn: &str,
    record: &mut KeyRecord,
    gaps: &mut Vec<CoverageGap>,
) -> bool {
    let described = scan
        .gate
        .run(Operation::DescribeKey, || {
            scan.client.describe_key().key_id(arn).send()
        })
        .await;
    match described {
        Ok(output) => match output.key_metadata() {
            Some(meta) => {
                convert::apply_metadata(record, meta);
                true
            }
            None => {
                let err = CallError::new(None, "DescribeKey returned no key metadata");
                gaps.push(scan.gap(Some(arn), "DescribeKey", &err));
                false
            }
        },
        Err(err) => {
            gaps.push(scan.gap(Some(arn), "DescribeKey", &err.into()));
            false
        }
    }
}

/// What the calls after DescribeKey returned; `None` for a call that does not apply to the key.
struct Reads {
    policy: Result<crate::model::PolicyDocument, CallError>,
    tags: Option<Result<crate::model::Tags, CallError>>,
    grants: Option<Result<Vec<Grant>, CallError>>,
    rotation: Option<Result<Rotation, CallError>>,
}

impl Reads {
    /// The key policy, and the tags, grants and rotation when they apply, at the same time.
    async fn of(
        scan: &TargetScan,
        arn: &str,
        listed_tags: Option<crate::model::Tags>,
        wants_customer_fields: bool,
        wants_rotation: bool,
    ) -> Reads {
        let (policy, tags, grants, rotation) = tokio::join!(
            read_policy(scan, arn),
            async {
                match listed_tags {
                    _ if !wants_customer_fields => None,
                    // The region's tag listing had the key: no call needed.
                    Some(tags) => Some(Ok(tags)),
                    None => Some(super::tags::read_tags(scan, arn).await),
                }
            },
            async {
                if wants_customer_fields {
                    Some(read_grants(scan, arn).await)
                } else {
                    None
                }
            },
            async {
                if wants_rotation {
                    Some(read_rotation(scan, arn).await)
                } else {
                    None
                }
            },
        );
        Reads {
            policy,
            tags,
            grants,
            rotation,
        }
    }

    /// Fills the record in: a call that failed marks its field unknown and records a gap.
    fn apply(
        self,
        scan: &TargetScan,
        arn: &str,
        metadata_known: bool,
        record: &mut KeyRecord,
        gaps: &mut Vec<CoverageGap>,
    ) {
        let aws_managed = record.key_manager.as_deref() == Some("AWS");
        match self.policy {
            Ok(policy) => record.policy = Some(policy),
            Err(err) => {
                record.unknown.push("policy".into());
                gaps.push(scan.gap(Some(arn), "GetKeyPolicy", &err));
            }
        }
        match self.tags {
            Some(Ok(tags)) => record.tags = tags,
            Some(Err(err)) => {
                record.unknown.push("tags".into());
                gaps.push(scan.gap(Some(arn), "ListResourceTags", &err));
            }
            None => {}
        }
        match self.grants {
            Some(Ok(grants)) => record.grants = Some(grants),
            Some(Err(err)) => {
                record.unknown.push("grants".into());
                gaps.push(scan.gap(Some(arn), "ListGrants", &err));
            }
            None => {}
        }
        match self.rotation {
            Some(Ok(rotation)) => record.rotation = Some(rotation),
            Some(Err(err)) => {
                record.unknown.push("rotation".into());
                gaps.push(scan.gap(Some(arn), "GetKeyRotationStatus", &err));
            }
            None if aws_managed => {
                record.rotation = Some(Rotation {
                    enabled: true,
                    period_days: Some(AWS_MANAGED_ROTATION_DAYS),
                    next_rotation_date: None,
                });
            }
            // Without metadata nobody knows whether rotation applies: say so.
            None if !metadata_known => record.unknown.push("rotation".into()),
            None => {}
        }
    }
}

pub(crate) async fn read_policy(
    scan: &TargetScan,
    arn: &str,
) -> Result<crate::model::PolicyDocument, CallError> {
    // The emulator, unlike AWS, does not default PolicyName: always send it.
    let output = scan
        .gate
        .run(Operation::GetKeyPolicy, || {
            scan.client
                .get_key_policy()
                .key_id(arn)
                .policy_name("default")
                .send()
        })
        .await?;
    Ok(crate::model::PolicyDocument::from_text(
        output.policy().unwrap_or("{}"),
    ))
}

pub(crate) async fn read_rotation(scan: &TargetScan, arn: &str) -> Result<Rotation, CallError> {
    let output = scan
        .gate
        .run(Operation::GetKeyRotationStatus, || {
            scan.client.get_key_rotation_status().key_id(arn).send()
        })
        .await?;
    let enabled = output.key_rotation_enabled();
    Ok(Rotation {
        enabled,
        period_days: output
            .rotation_period_in_days()
            .filter(|_| enabled)
            .and_then(|days| u32::try_from(days).ok()),
        next_rotation_date: output
            .next_rotation_date()
            .filter(|_| enabled)
            .and_then(convert::timestamp)
            .map(Into::into),
    })
}

pub(crate) async fn read_grants(scan: &TargetScan, arn: &str) -> Result<Vec<Grant>, CallError> {
    let mut grants = all_pages("ListGrants", |marker| async move {
        let output = scan
            .gate
            .run(Operation::ListGrants, || {
                scan.client
                    .list_grants()
                    .key_id(arn)
                    .limit(GRANTS_PAGE)
                    .set_marker(marker)
                    .send()
            })
            .await?;
        Page::kms(
            "ListGrants",
            output.grants().iter().map(convert::grant).collect(),
            output.truncated(),
            output.next_marker(),
        )
        .map_err(CallError::from)
    })
    .await?;
    grants.sort_by(|a, b| a.grant_id.cmp(&b.grant_id));
    Ok(grants)
}
