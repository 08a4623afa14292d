//! The container image and the Kubernetes examples, run as written.
//!
//! - A scan from inside the image (podman, `--network host`) against the emulator on the host
//!   reports exactly what the host binary reports, apart from timestamps and durations.
//! - examples/kubernetes/cronjob.yaml: its container's args run in the image with its volumes,
//!   user and security context, and report what the host binary does.
//! - examples/kubernetes/indexed-job.yaml: each shard pod's args run in the image with
//!   JOB_COMPLETION_INDEX = 0..N-1 (expanded as Kubernetes expands `$(VAR)`), then the merge Job's;
//!   the merged report equals a single scan of the same organization.
//!
//! The image is scripts/build-image.sh's (`KMS_AUDIT_IMAGE` overrides the name). Without podman or
//! the image these tests skip with the reason, except under `CI=true`, where they fail.

use crate::support;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use support::cli::{ACCESS_KEY, DEFAULT_ACCOUNT, Run, command, run};
use support::emulator::{Emulator, repo_root};
use support::org::{self, SeededOrg};
use support::seed::{self, NewKey};

/// The name the manifests use; scripts/build-image.sh tags the image with it.
fn manifest_image() -> String {
    format!("ghcr.io/kms-audit/kms-audit:{}", env!("CARGO_PKG_VERSION"))
}

/// The image to run, if podman and the image are there. Under CI=true their absence fails.
fn image() -> Option<String> {
    let image = std::env::var("KMS_AUDIT_IMAGE").unwrap_or_else(|_| manifest_image());
    let problem = match Command::new("podman")
        .args(["image", "exists", &image])
        .status()
    {
        Ok(status) if status.success() => return Some(image),
        Ok(_) => format!("the image {image} is not built: run scripts/build-image.sh"),
        Err(err) => format!(
            "podman is not available ({err}): run scripts/setup-podman.sh, then scripts/build-image.sh"
        ),
    };
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{problem}");
    }
    eprintln!("skipped: {problem}");
    None
}

/// A container to run: what a pod spec's container says, translated to `podman run`.
#[derive(Debug, Default)]
struct Container {
    image: String,
    command: Option<Vec<String>>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// host path, container path, read-only
    mounts: Vec<(PathBuf, String, bool)>,
    user: Option<String>,
    groups: Vec<String>,
    read_only_root: bool,
    drop_all_capabilities: bool,
    no_new_privileges: bool,
}

impl Container {
    fn run(&self) -> Run {
        let mut cmd = Command::new("podman");
        cmd.args(["run", "--rm", "--network", "host", "--pull", "never"]);
        if let Some(user) = &self.user {
            cmd.args(["--user", user]);
        }
        for group in &self.groups {
            cmd.args(["--group-add", group]);
        }
        if self.read_only_root {
            // Kubernetes mounts no tmpfs of its own on a read-only root file system.
            cmd.args(["--read-only", "--read-only-tmpfs=false"]);
        }
        if self.drop_all_capabilities {
            cmd.args(["--cap-drop", "ALL"]);
        }
        if self.no_new_privileges {
            cmd.args(["--security-opt", "no-new-privileges"]);
        }
        for (host, path, read_only) in &self.mounts {
            let mode = if *read_only { ":ro" } else { "" };
            cmd.arg("--volume")
                .arg(format!("{}:{path}{mode}", host.display()));
        }
        for (name, value) in &self.env {
            cmd.arg("--env").arg(format!("{name}={value}"));
        }
        if let Some(command) = &self.command {
            cmd.arg("--entrypoint")
                .arg(serde_json::to_string(command).expect("command as JSON"));
        }
        cmd.arg(&self.image).args(&self.args);
        run(&mut cmd)
    }
}

/// What replaces IRSA in the test: the emulator's static credentials and endpoint.
fn emulator_env(endpoint: &str) -> Vec<(String, String)> {
    [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", "kms-audit-test-secret"),
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("NO_COLOR", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Kubernetes' expansion of `$(VAR)` in command and args: defined variables are replaced, `$$`
/// is a literal `$`, anything else stays as written.
fn expand(text: &str, env: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix("$$") {
            out.push('$');
            rest = after;
            continue;
        }
        if let Some(inner) = rest.strip_prefix("$(")
            && let Some(end) = inner.find(')')
            && let Some((_, value)) = env.iter().rev().find(|(name, _)| name == &inner[..end])
        {
            out.push_str(value);
            rest = &inner[end + 1..];
            continue;
        }
        out.push('$');
        rest = &rest[1..];
    }
    out.push_str(rest);
    out
}

fn strings(value: &Value, what: &str) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("{what} is not a list: {value}"))
        .iter()
        .map(|v| {
            v.as_str()
                .unwrap_or_else(|| panic!("{what}: {v} is not a string"))
                .to_string()
        })
        .collect()
}

/// The documents of a manifest file, and a stand-in for the cluster's storage.
struct Cluster {
    docs: Vec<Value>,
    dir: tempfile::TempDir,
    /// PersistentVolumeClaim name → host directory, shared by every pod that mounts it.
    claims: BTreeMap<String, PathBuf>,
    pods: usize,
}

impl Cluster {
    fn load(manifest: &str) -> Cluster {
        let path = repo_root().join(manifest);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
            .unwrap_or_else(|e| panic!("{}: not YAML: {e}", path.display()));
        let dir = tempfile::tempdir().expect("temp dir");
        // The temp dir's parent chain must let uid 65532 reach the volumes.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        Cluster {
            docs,
            dir,
            claims: BTreeMap::new(),
            pods: 0,
        }
    }

    fn object(&self, kind: &str, name: &str) -> &Value {
        self.docs
            .iter()
            .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} {name} in the manifest"))
    }

    fn claim(&mut self, name: &str, fs_group: Option<u32>) -> PathBuf {
        if let Some(path) = self.claims.get(name) {
            return path.clone();
        }
        // The claim must be declared in the manifest.
        self.object("PersistentVolumeClaim", name);
        let path = self.dir.path().join(format!("pvc-{name}"));
        std::fs::create_dir(&path).expect("claim dir");
        // fsGroup: the volume belongs to the group, setgid, group-writable.
        if let Some(gid) = fs_group {
            std::os::unix::fs::chown(&path, Some(0), Some(gid)).expect("chown claim");
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o2775)).expect("chmod");
        self.claims.insert(name.to_string(), path.clone());
        path
    }

    /// The container named `kms-audit` of a pod template, as `podman run` would start it, with
    /// `extra_env` added the way Kubernetes adds JOB_COMPLETION_INDEX.
    fn container(&mut self, pod_spec: &Value, extra_env: &[(String, String)]) -> Container {
        self.pods += 1;
        let pod_dir = self.dir.path().join(format!("pod-{}", self.pods));
        std::fs::create_dir(&pod_dir).expect("pod dir");
        let containers = pod_spec["containers"].as_array().expect("containers");
        assert_eq!(containers.len(), 1, "one container per pod");
        let spec = &containers[0];
        assert_eq!(spec["name"], "kms-audit");
        let security = &pod_spec["securityContext"];
        let fs_group = security["fsGroup"].as_u64().map(|g| g as u32);

        let mut env: Vec<(String, String)> = Vec::new();
        for var in spec["env"].as_array().into_iter().flatten() {
            let name = var["name"].as_str().expect("env name").to_string();
            let value = var["value"]
                .as_str()
                .unwrap_or_else(|| panic!("env {name}: only literal values are supported here"));
            env.push((name, value.to_string()));
        }
        env.extend(extra_env.iter().cloned());

        let mut mounts = Vec::new();
        for mount in spec["volumeMounts"].as_array().into_iter().flatten() {
            let name = mount["name"].as_str().expect("mount name");
            let path = mount["mountPath"].as_str().expect("mountPath").to_string();
            let read_only = mount["readOnly"].as_bool().unwrap_or(false);
            let volume = pod_spec["volumes"]
                .as_array()
                .expect("volumes")
                .iter()
                .find(|v| v["name"] == name)
                .unwrap_or_else(|| panic!("volume {name} is mounted but not declared"));
            let host = if let Some(map) = volume["configMap"]["name"].as_str() {
                let dir = pod_dir.join(format!("configmap-{name}"));
                std::fs::create_dir(&dir).expect("configmap dir");
                let data = self.object("ConfigMap", map)["data"]
                    .as_object()
                    .expect("ConfigMap data")
                    .clone();
                for (file, content) in data {
                    std::fs::write(dir.join(&file), content.as_str().expect("data is text"))
                        .expect("write configmap file");
                }
                dir
            } else if let Some(claim) = volume["persistentVolumeClaim"]["claimName"].as_str() {
                self.claim(claim, fs_group)
            } else if volume.get("emptyDir").is_some() {
                let dir = pod_dir.join(format!("emptydir-{name}"));
                std::fs::create_dir(&dir).expect("emptyDir");
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777))
                    .expect("chmod");
                dir
            } else {
                panic!("volume {name}: only configMap, persistentVolumeClaim and emptyDir here")
            };
            mounts.push((host, path, read_only));
        }

        let expand_all = |list: Vec<String>| -> Vec<String> {
            list.iter().map(|item| expand(item, &env)).collect()
        };
        let command = spec
            .get("command")
            .map(|c| expand_all(strings(c, "command")));
        let args = spec
            .get("args")
            .map(|a| expand_all(strings(a, "args")))
            .unwrap_or_default();
        let user =
            security["runAsUser"]
                .as_u64()
                .map(|uid| match security["runAsGroup"].as_u64() {
                    Some(gid) => format!("{uid}:{gid}"),
                    None => uid.to_string(),
                });
        let container_security = &spec["securityContext"];
        let drop = container_security["capabilities"]["drop"]
            .as_array()
            .is_some_and(|d| d.iter().any(|c| c == "ALL"));
        let image = spec["image"].as_str().expect("image");
        assert_eq!(
            image,
            manifest_image(),
            "the manifest names the image of this version"
        );
        Container {
            image: std::env::var("KMS_AUDIT_IMAGE").unwrap_or_else(|_| image.to_string()),
            command,
            args,
            env,
            mounts,
            user,
            groups: fs_group.map(|g| g.to_string()).into_iter().collect(),
            read_only_root: container_security["readOnlyRootFilesystem"] == true,
            drop_all_capabilities: drop,
            no_new_privileges: container_security["allowPrivilegeEscalation"] == false,
        }
    }
}

const STRANGER: &str = "999999999999";

/// An organization with findings of several checks, owner tags on some keys, and one key whose
/// policy denies DescribeKey (a coverage gap: exit 3).
async fn seed_org(endpoint: &str) -> SeededOrg {
    let org = org::create_org(endpoint).await;
    let accounts = [
        org.management.clone(),
        org.prod.clone(),
        org.dev.clone(),
        org.sandbox.clone(),
    ];
    for (n, account) in accounts.iter().enumerate() {
        for region in ["us-east-1", "eu-west-1"] {
            let client = org::kms_in(endpoint, account, region).await;
            let tagged = seed::create_key(
                &client,
                NewKey {
                    tags: &[("owner", "platform")],
                    ..NewKey::default()
                },
            )
            .await;
            seed::alias(&client, tagged.key_id(), &format!("alias/app-{n}")).await;
            seed::enable_rotation(&client, tagged.key_id(), None).await;
            // No alias, no tags, no rotation.
            seed::create_key(&client, NewKey::default()).await;
        }
    }
    let dev = org::kms_in(endpoint, &org.dev, "us-east-1").await;
    let outside = seed::create_key(
        &dev,
        NewKey {
            policy: Some(seed::policy(
                &org.dev,
                &[json!({"Sid": "Outsider", "Effect": "Allow",
                         "Principal": {"AWS": format!("arn:aws:iam::{STRANGER}:root")},
                         "Action": "kms:Decrypt", "Resource": "*"})],
            )),
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&dev, outside.key_id(), "alias/to-stranger").await;
    let sandbox = org::kms_in(endpoint, &org.sandbox, "eu-west-1").await;
    seed::create_key(
        &sandbox,
        NewKey {
            policy: Some(seed::policy(
                &org.sandbox,
                &[
                    json!({"Sid": "DenyDescribe", "Effect": "Deny", "Principal": "*",
                         "Action": "kms:DescribeKey", "Resource": "*"}),
                ],
            )),
            ..NewKey::default()
        },
    )
    .await;
    let management = org::kms_in(endpoint, DEFAULT_ACCOUNT, "us-east-1").await;
    let disabled = seed::create_key(&management, NewKey::default()).await;
    seed::alias(&management, disabled.key_id(), "alias/retired").await;
    seed::disable(&management, disabled.key_id()).await;
    org
}

fn read(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// `text` with every run of 40 or more letters and digits (a request id) as `<id>`.
fn mask_ids(text: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_alphanumeric() {
            word.push(c);
            continue;
        }
        out.push_str(if word.len() >= 40 { "<id>" } else { &word });
        word.clear();
        out.push(c);
    }
    out.pop();
    out
}

/// A report without what depends on when and how fast it ran, and on which request was answered:
/// the times, the duration, and the AWS request ids quoted in coverage gap reasons.
fn timeless(mut report: Value) -> Value {
    let object = report.as_object_mut().expect("a report object");
    object.remove("started_at");
    object.remove("finished_at");
    if let Some(summary) = object.get_mut("summary").and_then(Value::as_object_mut) {
        summary.remove("duration_ms");
    }
    for gap in object
        .get_mut("coverage_gaps")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if let Some(reason) = gap.get("reason").and_then(Value::as_str) {
            gap["reason"] = Value::String(mask_ids(reason));
        }
    }
    report
}

/// The host binary, as `kms-audit ARGS...` against the emulator.
fn host(endpoint: &str, args: &[String]) -> Run {
    let mut cmd = command();
    cmd.env("AWS_ENDPOINT_URL", endpoint).args(args);
    run(&mut cmd)
}

/// The JSON pointers where `a` and `b` differ (at most 20), for a readable failure.
fn differences(a: &Value, b: &Value) -> Vec<String> {
    fn walk(path: String, a: &Value, b: &Value, out: &mut Vec<String>) {
        if out.len() >= 20 || a == b {
            return;
        }
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for key in keys {
                    let (va, vb) = (x.get(key), y.get(key));
                    match (va, vb) {
                        (Some(va), Some(vb)) => walk(format!("{path}/{key}"), va, vb, out),
                        _ => out.push(format!("{path}/{key}: {va:?} != {vb:?}")),
                    }
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                    walk(format!("{path}/{i}"), va, vb, out);
                }
            }
            _ => {
                let short = |v: &Value| v.to_string().chars().take(300).collect::<String>();
                out.push(format!("{path}: {} != {}", short(a), short(b)));
            }
        }
    }
    let mut out = Vec::new();
    walk(String::new(), a, b, &mut out);
    out
}

fn assert_same(what: &str, a: &Value, b: &Value) {
    let diff = differences(a, b);
    assert!(diff.is_empty(), "{what} differ:\n{}", diff.join("\n"));
}

fn gaps(report: &Value) -> usize {
    report["coverage_gaps"].as_array().map_or(0, Vec::len)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_inside_the_image_reports_what_the_host_binary_reports() {
    let Some(image) = image() else { return };
    let emulator = Emulator::start();
    let endpoint = emulator.endpoint.as_str();
    seed_org(endpoint).await;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).expect("chmod");

    let version = run(Command::new("podman").args(["run", "--rm", &image, "--version"]));
    let host_version = run(command().arg("--version"));
    assert_eq!(version.code, 0, "{}", version.stderr);
    assert_eq!(version.stdout, host_version.stdout, "the same kms-audit");

    let scan = |out: &str| -> Vec<String> {
        [
            "scan",
            "--org",
            "--regions",
            "us-east-1,eu-west-1",
            "--role-name",
            "KmsAuditReader",
            "-o",
            out,
        ]
        .map(String::from)
        .to_vec()
    };
    let host_path = dir.path().join("host.json");
    let on_host = host(endpoint, &scan(&format!("json={}", host_path.display())));
    let mut env = emulator_env(endpoint);
    env.push(("AWS_REGION".into(), "us-east-1".into()));
    let inside = Container {
        image: image.clone(),
        args: scan("json=/out/container.json"),
        env,
        mounts: vec![(dir.path().to_path_buf(), "/out".into(), false)],
        ..Container::default()
    }
    .run();
    assert_eq!(
        on_host.code, 3,
        "a coverage gap; stderr: {}",
        on_host.stderr
    );
    assert_eq!(
        inside.code, on_host.code,
        "the same exit code; stderr: {}",
        inside.stderr
    );
    let host_report = read(&host_path);
    let container_report = read(&dir.path().join("container.json"));
    assert_eq!(gaps(&host_report), 1, "the denied DescribeKey");
    assert!(
        host_report["findings"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["check_id"] == "POL002")),
        "a key trusted to an outside account"
    );
    assert_same(
        "the container's and the host's reports",
        &timeless(container_report),
        &timeless(host_report),
    );
    // The table's first line has the scan's time and duration.
    let table = |stdout: &str| -> String {
        let (first, rest) = stdout.split_once('\n').expect("a table");
        assert!(
            first.starts_with(&format!(
                "kms-audit {} · scan of ",
                env!("CARGO_PKG_VERSION")
            )),
            "{first}"
        );
        mask_ids(rest)
    };
    assert_eq!(
        table(&inside.stdout),
        table(&on_host.stdout),
        "the same table on stdout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cronjob_runs_as_written_in_the_image() {
    let Some(_) = image() else { return };
    let emulator = Emulator::start();
    let endpoint = emulator.endpoint.as_str();
    seed_org(endpoint).await;
    let mut cluster = Cluster::load("examples/kubernetes/cronjob.yaml");
    let pod_spec =
        cluster.object("CronJob", "kms-audit")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
            .clone();
    let pod = cluster.container(&pod_spec, &emulator_env(endpoint));
    assert_eq!(pod.command, None, "the image's entrypoint, no shell");
    let first = pod.run();

    // The same args on the host, with the volumes' paths.
    let reports = cluster.claims["kms-audit-reports"].clone();
    let inputs = pod
        .mounts
        .iter()
        .find(|(_, path, _)| path == "/etc/kms-audit")
        .map(|(host, _, _)| host.clone())
        .expect("the inputs mount");
    let host_dir = tempfile::tempdir().expect("temp dir");
    let host_args: Vec<String> = pod
        .args
        .iter()
        .map(|arg| {
            arg.replace("/etc/kms-audit", &inputs.display().to_string())
                .replace("/reports", &host_dir.path().display().to_string())
        })
        .collect();
    let on_host = host(endpoint, &host_args);
    assert_eq!(
        on_host.code, 3,
        "a coverage gap; stderr: {}",
        on_host.stderr
    );
    assert_eq!(first.code, on_host.code, "stderr: {}", first.stderr);
    let report = read(&reports.join("scan.json"));
    assert_same(
        "the CronJob's and the host's reports",
        &timeless(report.clone()),
        &timeless(read(&host_dir.path().join("scan.json"))),
    );
    for (file, json) in [
        ("scan.sarif", true),
        ("scan.asff.json", true),
        ("scan.csv", false),
        ("scan.ocsf.jsonl", false),
    ] {
        let text =
            std::fs::read_to_string(reports.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(!text.is_empty(), "{file} is empty");
        if json {
            serde_json::from_str::<Value>(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        }
    }

    // The documented next step: the previous report as the baseline, on the same path.
    let mut second = cluster.container(&pod_spec, &emulator_env(endpoint));
    second.args.push("--baseline=/reports/scan.json".into());
    let rerun = second.run();
    assert_eq!(rerun.code, 3, "stderr: {}", rerun.stderr);
    let rescanned = read(&reports.join("scan.json"));
    let findings = rescanned["findings"].as_array().expect("findings");
    assert_eq!(
        findings.len(),
        report["findings"].as_array().expect("findings").len()
    );
    assert!(
        findings.iter().all(|f| f["baseline"] == "existing"),
        "every finding was in the previous report"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_indexed_job_shards_merged_in_the_image_equal_one_scan() {
    let Some(_) = image() else { return };
    let emulator = Emulator::start();
    let endpoint = emulator.endpoint.as_str();
    seed_org(endpoint).await;
    let mut cluster = Cluster::load("examples/kubernetes/indexed-job.yaml");

    let job = cluster.object("Job", "kms-audit-shards").clone();
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    let completions = job["spec"]["completions"].as_u64().expect("completions");
    let pod_spec = job["spec"]["template"]["spec"].clone();
    let args = strings(&pod_spec["containers"][0]["args"], "args");
    let shards = args
        .iter()
        .position(|a| a == "--shards")
        .map(|i| args[i + 1].clone())
        .or_else(|| {
            args.iter()
                .find_map(|a| a.strip_prefix("--shards=").map(String::from))
        })
        .expect("--shards in the shard pod's args");
    assert_eq!(shards, completions.to_string(), "--shards = completions");
    let fail_job_codes = &job["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"]["values"];

    for index in 0..completions {
        let mut env = emulator_env(endpoint);
        env.push(("JOB_COMPLETION_INDEX".into(), index.to_string()));
        let pod = cluster.container(&pod_spec, &env);
        assert_eq!(pod.command, None, "the image's entrypoint, no shell");
        let shard = pod.run();
        assert_eq!(
            shard.code, 0,
            "shard pod {index} must succeed (its gaps and findings are in its report); \
             args {:?}; stderr: {}",
            pod.args, shard.stderr
        );
        assert!(
            !fail_job_codes
                .as_array()
                .expect("podFailurePolicy codes")
                .contains(&json!(shard.code))
        );
    }
    let shard_dir = cluster.claims["kms-audit-shards"].clone();
    let mut shard_files: Vec<String> = std::fs::read_dir(&shard_dir)
        .expect("shard dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    shard_files.sort();
    let expected: Vec<String> = (0..completions)
        .map(|i| format!("shard-{i}.json"))
        .collect();
    assert_eq!(shard_files, expected, "one report per index, nothing else");

    let merge_spec = cluster.object("Job", "kms-audit-merge")["spec"]["template"]["spec"].clone();
    let merge = cluster.container(&merge_spec, &[]);
    assert_eq!(merge.command, None, "the image's entrypoint, no shell");
    let merged_run = merge.run();

    // One scan of the whole organization with the same inputs, on the host.
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("kms-audit.yaml");
    let config_text =
        cluster.object("ConfigMap", "kms-audit-shard-inputs")["data"]["kms-audit.yaml"]
            .as_str()
            .expect("config")
            .to_string();
    std::fs::write(&config, config_text).expect("write config");
    let whole_path = dir.path().join("whole.json");
    let whole_run = host(
        endpoint,
        &[
            "scan".into(),
            "--org".into(),
            "--role-name=KmsAuditReader".into(),
            format!("--config={}", config.display()),
            format!("--output=json={}", whole_path.display()),
            "--fail-on=high".into(),
        ],
    );
    assert_eq!(
        whole_run.code, 3,
        "a coverage gap; stderr: {}",
        whole_run.stderr
    );
    assert_eq!(
        merged_run.code, whole_run.code,
        "the merge exits as one scan would; stderr: {}",
        merged_run.stderr
    );

    let reports = cluster.claims["kms-audit-reports"].clone();
    let mut merged = timeless(read(&reports.join("scan.json")));
    let mut whole = timeless(read(&whole_path));
    assert_eq!(gaps(&whole), 1);
    // Every shard lists the organization and asks who it is: only the KMS calls add up to one
    // scan's.
    let kms_calls = |report: &mut Value| -> Value {
        let calls = report["summary"]
            .as_object_mut()
            .expect("summary")
            .remove("api_calls")
            .expect("api_calls");
        calls
            .as_object()
            .expect("api_calls")
            .iter()
            .filter(|(op, _)| op.starts_with("kms:"))
            .map(|(op, n)| (op.clone(), n.clone()))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    assert_eq!(kms_calls(&mut merged), kms_calls(&mut whole));
    assert_same("the merged report and one scan", &merged, &whole);
    for file in [
        "scan.sarif",
        "scan.csv",
        "scan.ocsf.jsonl",
        "scan.asff.json",
    ] {
        let meta = std::fs::metadata(reports.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(meta.len() > 0, "{file} is empty");
    }
}
