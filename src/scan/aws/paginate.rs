//! The one paginator of every AWS listing kms-audit reads: KMS (`Limit`/`Marker`: ListKeys,
//! ListAliases, ListResourceTags, ListGrants), the tag listing (`tag:GetResources`,
//! `PaginationToken`) and Organizations (`NextToken`: ListAccounts, ListAccountsForParent,
//! ListOrganizationalUnitsForParent).
//!
//! A listing ends when a page gives no next token (or an empty one); an empty page that still
//! gives one is not the end. A token that comes back a second time would send the same requests
//! forever, and so would an endpoint that hands out new tokens without end: both are errors
//! that name the operation, never a loop and never a silently short listing.

use std::collections::HashSet;
use std::future::Future;

use super::CallError;

/// Pages one listing may take before it counts as endless: 100 million keys at ListKeys' 1,000
/// a page, far beyond any account's quota.
pub const MAX_PAGES: usize = 100_000;

/// One page of a listing: its items, and the token of the next page (`None` or empty at the end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// A page of a KMS listing, which says `Truncated` and gives `NextMarker`: the end when not
    /// truncated, whatever the marker; truncated without a marker is an error, not the end.
    pub fn kms(
        operation: &'static str,
        items: Vec<T>,
        truncated: bool,
        next_marker: Option<&str>,
    ) -> Result<Self, PaginationError> {
        let next = match next_marker.filter(|m| !m.is_empty()) {
            _ if !truncated => None,
            Some(marker) => Some(marker.to_string()),
            None => return Err(PaginationError::NoMarker { operation }),
        };
        Ok(Page { items, next })
    }
}

/// A listing that would not end, or that ended without saying where it goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaginationError {
    #[error("the response was truncated but gave no new marker; the listing may be incomplete")]
    NoMarker { operation: &'static str },
    #[error("{operation} returned the same pagination token twice; the listing may be incomplete")]
    RepeatedToken {
        operation: &'static str,
        token: String,
    },
    #[error("{operation} returned more than {limit} pages; the listing may be incomplete")]
    TooManyPages {
        operation: &'static str,
        limit: usize,
    },
}

impl PaginationError {
    /// The listing's operation (`ListKeys`, `GetResources`, `ListAccounts`, …).
    pub fn operation(&self) -> &'static str {
        match self {
            Self::NoMarker { operation }
            | Self::RepeatedToken { operation, .. }
            | Self::TooManyPages { operation, .. } => operation,
        }
    }
}

/// As a coverage gap records it: code `PaginationError`.
impl From<PaginationError> for CallError {
    fn from(err: PaginationError) -> Self {
        CallError::new(Some("PaginationError"), err.to_string())
    }
}

/// Every item of the `operation` listing, page after page, in order. `fetch` sends one request
/// for the given token (`None` for the first page).
pub async fn all_pages<T, E, F, Fut>(operation: &'static str, fetch: F) -> Result<Vec<T>, E>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page<T>, E>>,
    E: From<PaginationError>,
{
    all_pages_within(operation, MAX_PAGES, fetch).await
}

/// [`all_pages`] with at most `limit` pages.
async fn all_pages_within<T, E, F, Fut>(
    operation: &'static str,
    limit: usize,
    mut fetch: F,
) -> Result<Vec<T>, E>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page<T>, E>>,
    E: From<PaginationError>,
{
    let mut items = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut token: Option<String> = None;
    for _ in 0..limit {
        let page = fetch(token.take()).await?;
        items.extend(page.items);
        let Some(next) = page.next.filter(|t| !t.is_empty()) else {
            return Ok(items);
        };
        if !seen.insert(next.clone()) {
            return Err(PaginationError::RepeatedToken {
                operation,
                token: next,
            }
            .into());
        }
        token = Some(next);
    }
    Err(PaginationError::TooManyPages { operation, limit }.into())
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;

    /// A listing of recorded pages `(items, next)`; also records the tokens it was asked for.
    async fn list(
        limit: usize,
        pages: &[(&[u32], Option<&str>)],
    ) -> (Result<Vec<u32>, PaginationError>, Vec<Option<String>>) {
        let mut pages: VecDeque<Page<u32>> = pages
            .iter()
            .map(|(items, next)| Page {
                items: items.to_vec(),
                next: next.map(str::to_string),
            })
            .collect();
        let mut asked = Vec::new();
        let listed = all_pages_within("ListThings", limit, |token| {
            asked.push(token);
            let page = pages.pop_front().unwrap_or(Page {
                items: Vec::new(),
                next: None,
            });
            async move { Ok::<_, PaginationError>(page) }
        })
        .await;
        (listed, asked)
    }

    #[tokio::test]
    async fn pages_are_followed_until_a_page_gives_no_token() {
        let (listed, asked) = list(
            10,
            &[(&[1, 2], Some("a")), (&[], Some("b")), (&[3], Some(""))],
        )
        .await;
        // An empty page with a token is not the end; an empty token is.
        assert_eq!(listed, Ok(vec![1, 2, 3]));
        assert_eq!(asked, [None, Some("a".into()), Some("b".into())]);

        let (listed, asked) = list(10, &[(&[7], None)]).await;
        assert_eq!(listed, Ok(vec![7]));
        assert_eq!(asked, [None]);
    }

    #[tokio::test]
    async fn a_token_seen_before_is_an_error_naming_the_operation() {
        let (listed, asked) = list(10, &[(&[1], Some("a")), (&[2], Some("a"))]).await;
        let err = listed.expect_err("repeated");
        assert_eq!(
            err,
            PaginationError::RepeatedToken {
                operation: "ListThings",
                token: "a".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "ListThings returned the same pagination token twice; the listing may be incomplete"
        );
        assert_eq!(asked.len(), 2);

        // Not only the previous token: a cycle a → b → a is caught too.
        let (listed, _) = list(
            10,
            &[(&[1], Some("a")), (&[2], Some("b")), (&[3], Some("a"))],
        )
        .await;
        assert!(matches!(
            listed,
            Err(PaginationError::RepeatedToken { ref token, .. }) if token == "a"
        ));
    }

    #[tokio::test]
    async fn new_tokens_without_end_stop_at_the_page_limit() {
        let mut n = 0;
        let listed: Result<Vec<u32>, PaginationError> = all_pages_within("ListThings", 50, |_| {
            n += 1;
            let page = Page {
                items: vec![n],
                next: Some(format!("t{n}")),
            };
            async move { Ok(page) }
        })
        .await;
        assert_eq!(
            listed,
            Err(PaginationError::TooManyPages {
                operation: "ListThings",
                limit: 50
            })
        );
        assert_eq!(n, 50);
    }

    #[tokio::test]
    async fn a_failed_page_fails_the_listing() {
        let listed: Result<Vec<u32>, CallError> = all_pages("ListThings", |token| async move {
            match token {
                None => Ok(Page {
                    items: vec![1],
                    next: Some("a".into()),
                }),
                Some(_) => Err(CallError::new(Some("AccessDeniedException"), "denied")),
            }
        })
        .await;
        assert_eq!(
            listed.expect_err("denied").code.as_deref(),
            Some("AccessDeniedException")
        );
    }

    #[test]
    fn kms_pages_end_only_when_not_truncated() {
        let page = |truncated, marker| Page::<u32>::kms("ListKeys", Vec::new(), truncated, marker);
        assert_eq!(page(false, Some("x")).map(|p| p.next), Ok(None));
        assert_eq!(page(false, None).map(|p| p.next), Ok(None));
        assert_eq!(
            page(true, Some("m2")).map(|p| p.next),
            Ok(Some("m2".into()))
        );
        for marker in [None, Some("")] {
            let err = page(true, marker).expect_err("no marker");
            assert_eq!(err.operation(), "ListKeys");
            let err = CallError::from(err);
            assert_eq!(err.code.as_deref(), Some("PaginationError"));
            assert_eq!(
                err.message,
                "the response was truncated but gave no new marker; the listing may be incomplete"
            );
        }
    }
}
