//! Which regions to scan.
//!
//! kms-audit ships the list of AWS regions instead of asking EC2 `DescribeRegions`: the EC2 SDK
//! crate is by far the largest AWS crate to build, and the answer it gives (which opt-in regions an
//! account has enabled) is learned for free from the first KMS call in each region, which AWS
//! answers with `UnrecognizedClientException` where the region is not enabled. Such a region is
//! recorded as skipped, not as a gap. `--regions` selects regions explicitly.

/// A region of one AWS partition, and whether accounts must opt in to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionInfo {
    pub name: &'static str,
    pub opt_in: bool,
}

const fn r(name: &'static str, opt_in: bool) -> RegionInfo {
    RegionInfo { name, opt_in }
}

/// Commercial (`aws`) partition regions, as of kms-audit's release.
pub const AWS_REGIONS: &[RegionInfo] = &[
    r("us-east-1", false),
    r("us-east-2", false),
    r("us-west-1", false),
    r("us-west-2", false),
    r("af-south-1", true),
    r("ap-east-1", true),
    r("ap-east-2", true),
    r("ap-south-1", false),
    r("ap-south-2", true),
    r("ap-southeast-1", false),
    r("ap-southeast-2", false),
    r("ap-southeast-3", true),
    r("ap-southeast-4", true),
    r("ap-southeast-5", true),
    r("ap-southeast-6", true),
    r("ap-southeast-7", true),
    r("ap-northeast-1", false),
    r("ap-northeast-2", false),
    r("ap-northeast-3", false),
    r("ca-central-1", false),
    r("ca-west-1", true),
    r("eu-central-1", false),
    r("eu-central-2", true),
    r("eu-west-1", false),
    r("eu-west-2", false),
    r("eu-west-3", false),
    r("eu-south-1", true),
    r("eu-south-2", true),
    r("eu-north-1", false),
    r("il-central-1", true),
    r("me-south-1", true),
    r("me-central-1", true),
    r("mx-central-1", true),
    r("sa-east-1", false),
];

/// AWS GovCloud (US) partition.
pub const AWS_US_GOV_REGIONS: &[RegionInfo] =
    &[r("us-gov-east-1", false), r("us-gov-west-1", false)];

/// AWS China partition.
pub const AWS_CN_REGIONS: &[RegionInfo] = &[r("cn-north-1", false), r("cn-northwest-1", false)];

/// The regions of the partition that `home_region` belongs to.
pub fn partition_regions(home_region: &str) -> &'static [RegionInfo] {
    if home_region.starts_with("us-gov-") {
        AWS_US_GOV_REGIONS
    } else if home_region.starts_with("cn-") {
        AWS_CN_REGIONS
    } else {
        AWS_REGIONS
    }
}

/// Looks a region up in every partition.
pub fn lookup(name: &str) -> Option<RegionInfo> {
    AWS_REGIONS
        .iter()
        .chain(AWS_US_GOV_REGIONS)
        .chain(AWS_CN_REGIONS)
        .find(|region| region.name == name)
        .copied()
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RegionError {
    #[error("unknown region '{0}' in {1}: use AWS region codes such as us-east-1 or eu-west-1")]
    Unknown(String, &'static str),
    #[error("--regions and --exclude-regions leave no region to scan")]
    NothingLeft,
}

/// The ordered list of regions to scan: `--regions` if given (else every region of the home
/// region's partition), minus `--exclude-regions`. Unknown names are rejected before any call.
pub fn select_regions(
    home_region: &str,
    include: &[String],
    exclude: &[String],
) -> Result<Vec<RegionInfo>, RegionError> {
    for name in exclude {
        lookup(name).ok_or_else(|| RegionError::Unknown(name.clone(), "--exclude-regions"))?;
    }
    let mut selected: Vec<RegionInfo> = if include.is_empty() {
        partition_regions(home_region).to_vec()
    } else {
        let mut chosen = Vec::new();
        for name in include {
            let region =
                lookup(name).ok_or_else(|| RegionError::Unknown(name.clone(), "--regions"))?;
            if !chosen.contains(&region) {
                chosen.push(region);
            }
        }
        chosen
    };
    selected.retain(|region| !exclude.iter().any(|name| name == region.name));
    if selected.is_empty() {
        return Err(RegionError::NothingLeft);
    }
    Ok(selected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(regions: &[RegionInfo]) -> Vec<&str> {
        regions.iter().map(|r| r.name).collect()
    }

    #[test]
    fn default_is_the_whole_partition_of_the_home_region() {
        let all = select_regions("eu-west-1", &[], &[]).expect("valid");
        assert_eq!(all.len(), AWS_REGIONS.len());
        let gov = select_regions("us-gov-west-1", &[], &[]).expect("valid");
        assert_eq!(names(&gov), ["us-gov-east-1", "us-gov-west-1"]);
    }

    #[test]
    fn include_keeps_order_and_drops_duplicates_and_excludes() {
        let include = vec![
            "eu-west-1".to_string(),
            "us-east-1".into(),
            "eu-west-1".into(),
        ];
        let exclude = vec!["us-east-1".to_string()];
        let regions = select_regions("us-east-1", &include, &exclude).expect("valid");
        assert_eq!(names(&regions), ["eu-west-1"]);
    }

    #[test]
    fn unknown_region_is_rejected_with_the_flag_that_named_it() {
        let err = select_regions("us-east-1", &["us-east-9".to_string()], &[]).unwrap_err();
        assert_eq!(err, RegionError::Unknown("us-east-9".into(), "--regions"));
        let err = select_regions("us-east-1", &[], &["mars-1".to_string()]).unwrap_err();
        assert!(err.to_string().contains("--exclude-regions"));
    }

    #[test]
    fn excluding_everything_is_an_error() {
        let err = select_regions("us-east-1", &["us-east-1".into()], &["us-east-1".into()]);
        assert_eq!(err.unwrap_err(), RegionError::NothingLeft);
    }
}
