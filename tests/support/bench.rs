//! What the benchmark examples share: the synthetic estate's regions, AWS managed key services
//! and account numbers, and their `--flag value` command lines.

/// The 17 regions every account has enabled (no opt-in), in the order `--regions N` takes them.
pub const REGIONS: [&str; 17] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "sa-east-1",
];

/// Services whose AWS managed keys (`alias/aws/<service>`) a synthetic account holds.
pub const AWS_SERVICES: [&str; 14] = [
    "s3",
    "ebs",
    "rds",
    "lambda",
    "secretsmanager",
    "ssm",
    "dynamodb",
    "acm",
    "es",
    "glue",
    "redshift",
    "xray",
    "elasticfilesystem",
    "kinesisvideo",
];

/// The id of synthetic account 0; account `i` is `FIRST_ACCOUNT + i`.
pub const FIRST_ACCOUNT: u64 = 100_000_000_000;

/// Synthetic account number `index`, as a 12-digit account id.
pub fn account_id(index: usize) -> String {
    format!("{:012}", FIRST_ACCOUNT + index as u64)
}

/// One `--flag value` of a benchmark's command line.
pub struct Flag {
    pub name: String,
    pub value: String,
    usage: fn(&str) -> !,
}

impl Flag {
    /// The value as a number; anything else ends the program through `usage`.
    pub fn number<T: std::str::FromStr>(&self) -> T {
        self.number_in(&self.value)
    }

    /// A part of the value (as in `--quota OPERATION=RPS`) as a number, like [`Flag::number`].
    pub fn number_in<T: std::str::FromStr>(&self, text: &str) -> T {
        text.parse()
            .unwrap_or_else(|_| (self.usage)(&format!("{}: '{text}' is not a number", self.name)))
    }

    /// Ends the program through `usage`: this flag is not one of the command's.
    pub fn unknown(&self) -> ! {
        (self.usage)(&format!("unknown argument {}", self.name))
    }
}

/// The command line's `--flag value` pairs, in order; a flag without a value ends the program
/// through `usage` (which prints the problem and the usage line, and exits 2).
pub fn flags(
    args: impl Iterator<Item = String>,
    usage: fn(&str) -> !,
) -> impl Iterator<Item = Flag> {
    let mut args = args;
    std::iter::from_fn(move || {
        let name = args.next()?;
        let value = args
            .next()
            .unwrap_or_else(|| usage(&format!("{name} needs a value")));
        Some(Flag { name, value, usage })
    })
}
