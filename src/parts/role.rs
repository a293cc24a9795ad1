//! The service role and its inline policies.

use aws_sdk_iam::Client;
use aws_sdk_iam::operation::get_role::GetRoleError;
use aws_sdk_iam::types::{Role, Tag as IamTag};
use futures_util::future::try_join_all;

use super::{PartError, Removal, aws_error, owner_in, tag_scoped_removal, unless_not_found};
use crate::model::{FINGERPRINT_TAG_KEY, ORPHAN_TAG_KEY, TagSet};

/// What the role should be.
#[derive(Debug, Clone)]
pub(crate) struct DesiredRole {
    pub name: String,
    pub path: String,
    pub physical_id: String,
    pub trust_policy: String,
    pub permissions_boundary: Option<String>,
    pub tags: TagSet,
    /// Inline policies by name; `None` means the policy must not exist.
    pub inline_policies: Vec<(&'static str, Option<String>)>,
}

impl DesiredRole {
    /// The setup's tags, plus the fingerprint of what its job depends on.
    pub(crate) fn tags_with_fingerprint(
        user: &[crate::model::Tag],
        physical_id: &str,
        fingerprint: &str,
    ) -> TagSet {
        TagSet::owned(user, physical_id).with(FINGERPRINT_TAG_KEY, fingerprint)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct EnsuredRole {
    pub name: String,
    pub arn: String,
    pub created: bool,
}

fn tag_value<'a>(role: &'a Role, key: &str) -> Option<&'a str> {
    role.tags()
        .iter()
        .find(|t| t.key() == key)
        .map(|t| t.value())
}

fn owner(role: &Role) -> Option<&str> {
    owner_in(role.tags().iter().map(|t| (t.key(), t.value())))
}

/// The role, when it exists.
pub(crate) async fn find(iam: &Client, name: &str) -> Result<Option<Role>, PartError> {
    let found = unless_not_found(
        "iam:GetRole",
        iam.get_role().role_name(name).send(),
        GetRoleError::is_no_such_entity_exception,
    )
    .await?;
    Ok(found.and_then(|out| out.role))
}

/// Whether the role carries `physical_id` as its owner.
pub(crate) fn is_ours(role: &Role, physical_id: &str) -> bool {
    owner(role) == Some(physical_id)
}

/// The physical id of a failed replacement left behind, marked on the role.
pub(crate) fn orphan_of(role: &Role) -> Option<&str> {
    tag_value(role, ORPHAN_TAG_KEY)
}

/// Marks (or, with `None`, unmarks) a failed replacement's leftovers on the
/// role of the setup that stays.
/// The role is left alone unless it carries `owner` as its owner tag.
pub(crate) async fn mark_orphan(
    iam: &Client,
    role_name: &str,
    owner: &str,
    orphan: Option<&str>,
) -> Result<(), PartError> {
    let ours = find(iam, role_name)
        .await?
        .is_some_and(|r| is_ours(&r, owner));
    if !ours {
        return Ok(());
    }
    match orphan {
        Some(id) => iam
            .tag_role()
            .role_name(role_name)
            .tags(iam_tag(ORPHAN_TAG_KEY, id)?)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("iam:TagRole", e)),
        None => iam
            .untag_role()
            .role_name(role_name)
            .tag_keys(ORPHAN_TAG_KEY)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("iam:UntagRole", e)),
    }
}

/// The replacement fingerprint on the setup's role, when the role is ours.
pub(crate) fn deployed_fingerprint<'r>(role: &'r Role, physical_id: &str) -> Option<&'r str> {
    is_ours(role, physical_id)
        .then(|| tag_value(role, FINGERPRINT_TAG_KEY))
        .flatten()
}

fn iam_tags(tags: &TagSet) -> Result<Vec<IamTag>, PartError> {
    tags.iter().map(|(k, v)| iam_tag(k, v)).collect()
}

fn iam_tag(key: &str, value: &str) -> Result<IamTag, PartError> {
    IamTag::builder()
        .key(key)
        .value(value)
        .build()
        .map_err(|e| PartError::unbuildable("iam:TagRole", e))
}

/// Fails, naming the role, when a role of that name exists without our tag.
pub(crate) fn check_owner(existing: Option<&Role>, want: &DesiredRole) -> Result<(), PartError> {
    let Some(role) = existing else { return Ok(()) };
    let owner = owner(role);
    if owner == Some(want.physical_id.as_str()) {
        Ok(())
    } else {
        Err(PartError::not_ours(
            format!("IAM role '{}'", want.name),
            owner,
            "choose another RoleName or leave it unset",
        ))
    }
}

/// Creates the role, or brings `existing` (ours, see `check_owner`) to the
/// desired state.
pub(crate) async fn apply(
    iam: &Client,
    want: &DesiredRole,
    existing: Option<Role>,
) -> Result<EnsuredRole, PartError> {
    if let Some(role) = existing {
        return bring_up_to_date(iam, want, role).await;
    }
    let mut req = iam
        .create_role()
        .role_name(&want.name)
        .path(&want.path)
        .assume_role_policy_document(&want.trust_policy)
        .description(format!(
            "Amazon Bedrock model customization service role of {}",
            want.physical_id
        ))
        .set_tags(Some(iam_tags(&want.tags)?));
    if let Some(b) = &want.permissions_boundary {
        req = req.permissions_boundary(b);
    }
    let role = match req.send().await {
        Ok(out) => out.role.ok_or_else(|| PartError::Aws {
            operation: "iam:CreateRole",
            message: "the response had no role".into(),
            code: None,
        })?,
        // Our own earlier attempt whose response was lost, or a concurrent
        // delivery of the same request: adopt it if it is ours.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_entity_already_exists_exception()) =>
        {
            let existing = find(iam, &want.name).await?;
            check_owner(existing.as_ref(), want)?;
            return match existing {
                Some(role) => bring_up_to_date(iam, want, role).await,
                None => Err(aws_error("iam:CreateRole", e)),
            };
        }
        Err(e) => return Err(aws_error("iam:CreateRole", e)),
    };
    // Inline policies need the role to exist: the one step that cannot be
    // parallel with its creation.
    put_inline_policies(iam, want).await?;
    Ok(EnsuredRole {
        name: role.role_name().to_string(),
        arn: role.arn().to_string(),
        created: true,
    })
}

async fn bring_up_to_date(
    iam: &Client,
    want: &DesiredRole,
    role: Role,
) -> Result<EnsuredRole, PartError> {
    tokio::try_join!(
        update_existing(iam, &role, want),
        put_inline_policies(iam, want)
    )?;
    Ok(EnsuredRole {
        name: role.role_name().to_string(),
        arn: role.arn().to_string(),
        created: false,
    })
}

async fn update_existing(iam: &Client, role: &Role, want: &DesiredRole) -> Result<(), PartError> {
    let trust = async {
        iam.update_assume_role_policy()
            .role_name(&want.name)
            .policy_document(&want.trust_policy)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("iam:UpdateAssumeRolePolicy", e))
    };
    let current_boundary = role
        .permissions_boundary()
        .and_then(|b| b.permissions_boundary_arn());
    let boundary = async {
        match (&want.permissions_boundary, current_boundary) {
            (Some(w), Some(c)) if w == c => Ok(()),
            (Some(w), _) => iam
                .put_role_permissions_boundary()
                .role_name(&want.name)
                .permissions_boundary(w)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error("iam:PutRolePermissionsBoundary", e)),
            (None, Some(_)) => iam
                .delete_role_permissions_boundary()
                .role_name(&want.name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error("iam:DeleteRolePermissionsBoundary", e)),
            (None, None) => Ok(()),
        }
    };
    let stale = want.tags.stale_keys(role.tags().iter().map(|t| t.key()));
    let tags = async {
        iam.tag_role()
            .role_name(&want.name)
            .set_tags(Some(iam_tags(&want.tags)?))
            .send()
            .await
            .map_err(|e| aws_error("iam:TagRole", e))?;
        if !stale.is_empty() {
            iam.untag_role()
                .role_name(&want.name)
                .set_tag_keys(Some(stale.clone()))
                .send()
                .await
                .map_err(|e| aws_error("iam:UntagRole", e))?;
        }
        Ok::<(), PartError>(())
    };
    tokio::try_join!(trust, boundary, tags)?;
    Ok(())
}

async fn put_inline_policies(iam: &Client, want: &DesiredRole) -> Result<(), PartError> {
    let calls = want.inline_policies.iter().map(|(name, doc)| async move {
        match doc {
            Some(doc) => iam
                .put_role_policy()
                .role_name(&want.name)
                .policy_name(*name)
                .policy_document(doc)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error("iam:PutRolePolicy", e)),
            None => delete_inline_policy(iam, &want.name, name).await,
        }
    });
    try_join_all(calls).await.map(|_| ())
}

async fn delete_inline_policy(iam: &Client, role: &str, policy: &str) -> Result<(), PartError> {
    unless_not_found(
        "iam:DeleteRolePolicy",
        iam.delete_role_policy()
            .role_name(role)
            .policy_name(policy)
            .send(),
        |e| e.is_no_such_entity_exception(),
    )
    .await
    .map(|_| ())
}

/// Deletes our role with its inline policies. A role without our tag is
/// left alone.
///
/// A role of ours outside `managed_path` (the handler's template no longer
/// grants its path) cannot be changed: that is an error saying what to do,
/// raised before any call IAM would deny.
pub(crate) async fn teardown(
    iam: &Client,
    name: &str,
    physical_id: &str,
    managed_path: &str,
) -> Result<Removal, PartError> {
    let Some(role) = find(iam, name).await? else {
        return Ok(Removal::NotFound);
    };
    if !is_ours(&role, physical_id) {
        return Ok(Removal::NotOurs);
    }
    if !crate::model::role_path_within(role.path(), managed_path) {
        return Err(PartError::input(
            "RolePath",
            format!(
                "role '{name}' is under path '{}', outside the path '{managed_path}' this handler may manage",
                role.path()
            ),
            format!(
                "a path the handler manages: redeploy the handler stack with RolePath '{}' (or a path above it), or delete the role yourself, then delete again",
                role.path()
            ),
        ));
    }
    detach_all_policies(iam, name).await?;
    tag_scoped_removal(
        "iam:DeleteRole",
        iam.delete_role().role_name(name).send(),
        |e| e.is_no_such_entity_exception(),
        async { Ok(find(iam, name).await?.is_some()) },
    )
    .await
}

/// Deletes the role's inline policies and detaches its managed ones, which
/// IAM requires before the role itself can go.
async fn detach_all_policies(iam: &Client, name: &str) -> Result<(), PartError> {
    let inline = async {
        iam.list_role_policies()
            .role_name(name)
            .send()
            .await
            .map_err(|e| aws_error("iam:ListRolePolicies", e))
    };
    let attached = async {
        iam.list_attached_role_policies()
            .role_name(name)
            .send()
            .await
            .map_err(|e| aws_error("iam:ListAttachedRolePolicies", e))
    };
    let (inline, attached) = tokio::try_join!(inline, attached)?;
    let deletes = inline
        .policy_names()
        .iter()
        .map(|p| delete_inline_policy(iam, name, p));
    // Someone may have attached managed policies to our role by hand; the
    // attachment goes with the role, the policies themselves stay.
    let detaches = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
        .map(|arn| async move {
            iam.detach_role_policy()
                .role_name(name)
                .policy_arn(arn)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error("iam:DetachRolePolicy", e))
        });
    tokio::try_join!(try_join_all(deletes), try_join_all(detaches))?;
    Ok(())
}
