//! Members' roles (admin, moderator) and the member list operators read. A role is a
//! row in `user_roles`; a member without one is an ordinary member.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Utc};

use crate::codec::{parse_timestamp, timestamp};
use crate::db::args;
use crate::{Store, StoreError};

/// What a member may do beyond membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Runs the site: `/admin`, the operators' API.
    Admin,
    /// Moderates the community (what community moderation checks).
    Moderator,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::Admin, Role::Moderator];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Moderator => "moderator",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == name)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A member as the operators' list shows them (no password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSummary {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub created: Option<DateTime<Utc>>,
    /// In [`Role::ALL`] order.
    pub roles: Vec<Role>,
    /// Live personal access tokens.
    pub tokens: u64,
}

impl Store {
    /// Grants `role`; false when the member already had it.
    pub fn grant_role(
        &self,
        user_id: i64,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let added = self.db.execute(
            "INSERT INTO user_roles (user_id, role, granted) VALUES (?1, ?2, ?3) \
             ON CONFLICT DO NOTHING",
            args![user_id, role.as_str(), timestamp(Some(now))],
        )?;
        Ok(added == 1)
    }

    /// Takes `role` away; false when the member did not have it.
    pub fn revoke_role(&self, user_id: i64, role: Role) -> Result<bool, StoreError> {
        let removed = self.db.execute(
            "DELETE FROM user_roles WHERE user_id = ?1 AND role = ?2",
            args![user_id, role.as_str()],
        )?;
        Ok(removed == 1)
    }

    /// The member's roles, in [`Role::ALL`] order.
    pub fn roles(&self, user_id: i64) -> Result<Vec<Role>, StoreError> {
        let mut roles = self
            .db
            .query(
                "SELECT role FROM user_roles WHERE user_id = ?1",
                args![user_id],
            )?
            .iter()
            .map(|row| row.get::<String>(0))
            .collect::<Result<Vec<_>, _>>()?
            .iter()
            .filter_map(|name| Role::parse(name))
            .collect::<Vec<_>>();
        roles.sort_unstable();
        Ok(roles)
    }

    /// Whether the member has `role`.
    pub fn has_role(&self, user_id: i64, role: Role) -> Result<bool, StoreError> {
        Ok(self
            .db
            .query_opt(
                "SELECT 1 FROM user_roles WHERE user_id = ?1 AND role = ?2",
                args![user_id, role.as_str()],
            )?
            .is_some())
    }

    /// Every member, by username (case-insensitively), with roles and token counts.
    pub fn members(&self) -> Result<Vec<MemberSummary>, StoreError> {
        let rows = self.db.query(
            "SELECT u.id, u.username, u.email, u.created, \
             (SELECT COUNT(*) FROM access_tokens t WHERE t.user_id = u.id) \
             FROM users u ORDER BY lower(u.username), u.id",
            &[],
        )?;
        let mut members = Vec::with_capacity(rows.len());
        for row in rows {
            let id: i64 = row.get(0)?;
            let username: String = row.get(1)?;
            let created = parse_timestamp(&username, row.get(3)?)?;
            members.push(MemberSummary {
                id,
                email: row.get(2)?,
                created,
                username,
                roles: Vec::new(),
                tokens: row.get::<i64>(4)?.max(0) as u64,
            });
        }
        let at: HashMap<i64, usize> = members
            .iter()
            .enumerate()
            .map(|(index, member)| (member.id, index))
            .collect();
        for row in self.db.query("SELECT user_id, role FROM user_roles", &[])? {
            let (user_id, name): (i64, String) = (row.get(0)?, row.get(1)?);
            if let (Some(&index), Some(role)) = (at.get(&user_id), Role::parse(&name)) {
                members[index].roles.push(role);
            }
        }
        for member in &mut members {
            member.roles.sort_unstable();
        }
        Ok(members)
    }
}
