use sea_orm::entity::prelude::*;

/// A post in a group, or a reply to one (`parent_post_id`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "group_posts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub group_id: Uuid,
    pub author_user_id: Uuid,
    pub parent_post_id: Option<Uuid>,
    pub body: String,
    /// Shown to other members without author or alias.
    pub anonymous: bool,
    pub hidden_at: Option<DateTimeUtc>,
    pub hidden_by_user_id: Option<Uuid>,
    pub hidden_reason: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
