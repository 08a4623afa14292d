//! Reading IAM's Query-protocol XML: one page of `GetAccountAuthorizationDetails`, and the
//! `ErrorResponse` of a failed call.
//!
//! Only the elements kms-audit uses are read; any other element (tags, instance profiles and the
//! roles they nest, last-used dates) is skipped whole, so a nested `RoleName` is never taken
//! for the role's own. Policy documents are URL-decoded (RFC 3986) into JSON text.

use std::borrow::Cow;

use aws_smithy_xml::decode::{Document, ScopedDecoder, try_data};
use percent_encoding::percent_decode_str;

use crate::model::iam::{
    AccountAuthorizationDetails, AttachedPolicy, IamGroup, IamRole, IamUser, InlinePolicy,
    ManagedPolicy,
};

/// One page of the answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub details: AccountAuthorizationDetails,
    pub is_truncated: bool,
    /// Where the next page starts, when `is_truncated`.
    pub marker: Option<String>,
}

/// The code and message of an IAM `ErrorResponse`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorBody {
    pub code: Option<String>,
    pub message: Option<String>,
}

type Decoder<'inp, 'a> = ScopedDecoder<'inp, 'a>;

/// Parses one `GetAccountAuthorizationDetailsResponse`. Fails (with the reason) on anything that
/// is not one, or a page that says neither whether it is the last nor where the next begins.
pub fn parse_page(xml: &str) -> Result<Page, String> {
    let mut doc = Document::new(xml);
    let mut root = doc.root_element().map_err(|e| e.to_string())?;
    if !root
        .start_el()
        .matches("GetAccountAuthorizationDetailsResponse")
    {
        return Err(format!(
            "the root element is {}, not GetAccountAuthorizationDetailsResponse",
            root.start_el().local()
        ));
    }
    let mut page = None;
    while let Some(mut tag) = root.next_tag() {
        if tag
            .start_el()
            .matches("GetAccountAuthorizationDetailsResult")
        {
            page = Some(parse_result(&mut tag)?);
        }
    }
    page.ok_or_else(|| "no GetAccountAuthorizationDetailsResult element".to_string())
}

fn parse_result(result: &mut Decoder<'_, '_>) -> Result<Page, String> {
    let mut page = Page::default();
    let mut truncated = None;
    while let Some(mut tag) = result.next_tag() {
        let name = tag.start_el().local().to_string();
        match name.as_str() {
            "UserDetailList" => page.details.users = members(&mut tag, parse_user)?,
            "GroupDetailList" => page.details.groups = members(&mut tag, parse_group)?,
            "RoleDetailList" => page.details.roles = members(&mut tag, parse_role)?,
            "Policies" => page.details.policies = members(&mut tag, parse_managed_policy)?,
            "IsTruncated" => truncated = Some(boolean(&mut tag, "IsTruncated")?),
            "Marker" => page.marker = Some(text(&mut tag)?).filter(|m| !m.is_empty()),
            _ => {}
        }
    }
    page.is_truncated = truncated.ok_or("no IsTruncated element")?;
    if page.is_truncated && page.marker.is_none() {
        return Err("IsTruncated is true but there is no Marker".into());
    }
    Ok(page)
}

fn parse_user(member: &mut Decoder<'_, '_>) -> Result<IamUser, String> {
    let mut user = IamUser::default();
    while let Some(mut tag) = member.next_tag() {
        let name = tag.start_el().local().to_string();
        match name.as_str() {
            "UserName" => user.name = text(&mut tag)?,
            "Arn" => user.arn = text(&mut tag)?,
            "UserId" => user.id = text(&mut tag)?,
            "Path" => user.path = text(&mut tag)?,
            "GroupList" => user.groups = members(&mut tag, text)?,
            "UserPolicyList" => user.inline_policies = members(&mut tag, parse_inline)?,
            "AttachedManagedPolicies" => {
                user.attached_policies = members(&mut tag, parse_attached)?;
            }
            "PermissionsBoundary" => user.permissions_boundary = boundary(&mut tag)?,
            _ => {}
        }
    }
    required(&user.name, "UserName")?;
    required(&user.arn, "user Arn")?;
    Ok(user)
}

fn parse_group(member: &mut Decoder<'_, '_>) -> Result<IamGroup, String> {
    let mut group = IamGroup::default();
    while let Some(mut tag) = member.next_tag() {
        let name = tag.start_el().local().to_string();
        match name.as_str() {
            "GroupName" => group.name = text(&mut tag)?,
            "Arn" => group.arn = text(&mut tag)?,
            "GroupId" => group.id = text(&mut tag)?,
            "Path" => group.path = text(&mut tag)?,
            "GroupPolicyList" => group.inline_policies = members(&mut tag, parse_inline)?,
            "AttachedManagedPolicies" => {
                group.attached_policies = members(&mut tag, parse_attached)?;
            }
            _ => {}
        }
    }
    required(&group.name, "GroupName")?;
    required(&group.arn, "group Arn")?;
    Ok(group)
}

fn parse_role(member: &mut Decoder<'_, '_>) -> Result<IamRole, String> {
    let mut role = IamRole::default();
    while let Some(mut tag) = member.next_tag() {
        let name = tag.start_el().local().to_string();
        match name.as_str() {
            "RoleName" => role.name = text(&mut tag)?,
            "Arn" => role.arn = text(&mut tag)?,
            "RoleId" => role.id = text(&mut tag)?,
            "Path" => role.path = text(&mut tag)?,
            "RolePolicyList" => role.inline_policies = members(&mut tag, parse_inline)?,
            "AttachedManagedPolicies" => {
                role.attached_policies = members(&mut tag, parse_attached)?;
            }
            "PermissionsBoundary" => role.permissions_boundary = boundary(&mut tag)?,
            _ => {}
        }
    }
    required(&role.name, "RoleName")?;
    required(&role.arn, "role Arn")?;
    Ok(role)
}

/// A `ManagedPolicyDetail`. The emulator leaves `PolicyName` out: the name is then the last
/// segment of the ARN, as IAM builds the ARN from it.
fn parse_managed_policy(member: &mut Decoder<'_, '_>) -> Result<ManagedPolicy, String> {
    let mut policy = ManagedPolicy::default();
    let mut versions: Vec<(String, bool, String)> = Vec::new();
    while let Some(mut tag) = member.next_tag() {
        let name = tag.start_el().local().to_string();
        match name.as_str() {
            "PolicyName" => policy.name = text(&mut tag)?,
            "PolicyId" => policy.id = text(&mut tag)?,
            "Arn" => policy.arn = text(&mut tag)?,
            "Path" => policy.path = text(&mut tag)?,
            "DefaultVersionId" => policy.default_version_id = text(&mut tag)?,
            "AttachmentCount" => {
                let count = text(&mut tag)?;
                policy.attachment_count = count
                    .trim()
                    .parse()
                    .map_err(|_| format!("AttachmentCount {count:?} is not a count"))?;
            }
            "PolicyVersionList" => versions = members(&mut tag, parse_version)?,
            _ => {}
        }
    }
    required(&policy.arn, "policy Arn")?;
    if policy.name.is_empty() {
        policy.name = policy
            .arn
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
    }
    policy.document = versions
        .iter()
        .find(|(id, default, _)| *default || *id == policy.default_version_id)
        .map(|(_, _, document)| document.clone());
    Ok(policy)
}

/// A `PolicyVersion`: (version id, is default, document).
fn parse_version(member: &mut Decoder<'_, '_>) -> Result<(String, bool, String), String> {
    let (mut id, mut default, mut document) = (String::new(), false, String::new());
    while let Some(mut tag) = member.next_tag() {
        let name = tag.start_el().local().to_string();
        match name.as_str() {
            "VersionId" => id = text(&mut tag)?,
            "IsDefaultVersion" => default = boolean(&mut tag, "IsDefaultVersion")?,
            "Document" => document = url_decoded(&text(&mut tag)?).into_owned(),
            _ => {}
        }
    }
    Ok((id, default, document))
}

fn parse_inline(member: &mut Decoder<'_, '_>) -> Result<InlinePolicy, String> {
    let mut policy = InlinePolicy::default();
    while let Some(mut tag) = member.next_tag() {
        let name = tag.start_el().local().to_string();
        match name.as_str() {
            "PolicyName" => policy.name = text(&mut tag)?,
            "PolicyDocument" => policy.document = url_decoded(&text(&mut tag)?).into_owned(),
            _ => {}
        }
    }
    required(&policy.name, "inline PolicyName")?;
    Ok(policy)
}

fn parse_attached(member: &mut Decoder<'_, '_>) -> Result<AttachedPolicy, String> {
    let mut policy = AttachedPolicy::default();
    while let Some(mut tag) = member.next_tag() {
        let name = tag.start_el().local().to_string();
        match name.as_str() {
            "PolicyName" => policy.name = text(&mut tag)?,
            "PolicyArn" => policy.arn = text(&mut tag)?,
            _ => {}
        }
    }
    required(&policy.arn, "attached PolicyArn")?;
    Ok(policy)
}

/// `PermissionsBoundary`: the ARN of the boundary policy.
fn boundary(tag: &mut Decoder<'_, '_>) -> Result<Option<String>, String> {
    let mut arn = None;
    while let Some(mut inner) = tag.next_tag() {
        if inner.start_el().matches("PermissionsBoundaryArn") {
            arn = Some(text(&mut inner)?).filter(|a| !a.is_empty());
        }
    }
    Ok(arn)
}

/// Parses every `<member>` of a list element with `item`.
fn members<T>(
    list: &mut Decoder<'_, '_>,
    item: impl Fn(&mut Decoder<'_, '_>) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    let mut out = Vec::new();
    while let Some(mut member) = list.next_tag() {
        if member.start_el().matches("member") {
            out.push(item(&mut member)?);
        }
    }
    Ok(out)
}

fn text(tag: &mut Decoder<'_, '_>) -> Result<String, String> {
    try_data(tag)
        .map(Cow::into_owned)
        .map_err(|e| e.to_string())
}

fn boolean(tag: &mut Decoder<'_, '_>, name: &str) -> Result<bool, String> {
    let value = text(tag)?;
    match value.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(format!("{name} is {other:?}, not true or false")),
    }
}

fn required(value: &str, name: &str) -> Result<(), String> {
    if value.is_empty() {
        Err(format!("a member has no {name}"))
    } else {
        Ok(())
    }
}

/// IAM URL-encodes policy documents (RFC 3986). Bytes that do not decode to UTF-8 become U+FFFD,
/// and the document then fails to parse as a policy where it is evaluated.
pub fn url_decoded(text: &str) -> Cow<'_, str> {
    percent_decode_str(text).decode_utf8_lossy()
}

/// The `<Error>` of an `ErrorResponse`; empty when the body is not one.
pub fn parse_error(xml: &str) -> ErrorBody {
    let mut body = ErrorBody::default();
    let mut doc = Document::new(xml);
    let Ok(mut root) = doc.root_element() else {
        return body;
    };
    while let Some(mut tag) = root.next_tag() {
        if !tag.start_el().matches("Error") {
            continue;
        }
        while let Some(mut field) = tag.next_tag() {
            let name = field.start_el().local().to_string();
            let value = text(&mut field).ok().filter(|v| !v.is_empty());
            match name.as_str() {
                "Code" => body.code = value,
                "Message" => body.message = value,
                _ => {}
            }
        }
    }
    body
}
