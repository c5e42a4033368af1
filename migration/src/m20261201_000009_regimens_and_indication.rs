//! Regimens as clinics write them (CLINICAL.md, "Regimens and indication",
//! "Transdermal products", "Sedatives"):
//! - the fentanyl "12" patch delivers 12.5 mcg/hr and counts as 12.5;
//! - methadone gains the 1 mg/mL oral solution (a 1 mg unit);
//! - tapentadol and tramadol get their RxNorm codes;
//! - alprazolam, clonazepam, diazepam and lorazepam join the catalog as
//!   `SEDATIVE` (no MME; for the co-prescription alert);
//! - an order carries its indication (`PAIN` by default; buprenorphine
//!   orders are `OUD`);
//! - a plan may carry its clinician's reason (required for MOUD plans);
//! - a dose log may be a replacement for a patch that fell off.
//!
//! Existing catalog ids stay: rows are updated in place.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Medications {
    Table,
    Id,
    Name,
    Kind,
    Unit,
    MmeFactor,
    ConversionTable,
    Strengths,
    Rxnorm,
}

#[derive(DeriveIden)]
enum MedicationOrders {
    Table,
    MedicationId,
    Indication,
}

#[derive(DeriveIden)]
enum TaperPlans {
    Table,
    Reason,
}

#[derive(DeriveIden)]
enum DoseLogs {
    Table,
    ReplacesPatch,
}

/// The same stable ids as the catalog's first migration.
fn medication_id(name: &str) -> uuid::Uuid {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_OID,
        format!("stepdown/medication/{name}").as_bytes(),
    )
}

/// (name, strengths before, strengths after).
const STRENGTHS: [(&str, &str, &str); 2] = [
    (
        "fentanyl transdermal",
        "12,25,50,75,100",
        "12.5,25,50,75,100",
    ),
    ("methadone", "5,10", "1,5,10"),
];

/// RxNorm ingredient codes the first catalog lacked.
const RXNORM: [(&str, &str); 2] = [("tapentadol", "787390"), ("tramadol", "10689")];

/// CDC 2022 recommendation 11 (avoid concurrent benzodiazepines): listed so
/// an order can raise the co-prescription alert. Common US tablet strengths.
const SEDATIVES: [(&str, &str, &str); 4] = [
    ("alprazolam", "0.25,0.5,1,2", "596"),
    ("clonazepam", "0.5,1,2", "2598"),
    ("diazepam", "2,5,10", "3322"),
    ("lorazepam", "0.5,1,2", "6470"),
];

async fn set_strengths(
    manager: &SchemaManager<'_>,
    name: &str,
    strengths: &str,
) -> Result<(), DbErr> {
    let update = Query::update()
        .table(Medications::Table)
        .value(Medications::Strengths, strengths)
        .and_where(Expr::col(Medications::Id).eq(medication_id(name)))
        .to_owned();
    manager.exec_stmt(update).await
}

async fn set_rxnorm(
    manager: &SchemaManager<'_>,
    name: &str,
    code: Option<&str>,
) -> Result<(), DbErr> {
    let update = Query::update()
        .table(Medications::Table)
        .value(Medications::Rxnorm, code)
        .and_where(Expr::col(Medications::Id).eq(medication_id(name)))
        .to_owned();
    manager.exec_stmt(update).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _, after) in STRENGTHS {
            set_strengths(manager, name, after).await?;
        }
        for (name, code) in RXNORM {
            set_rxnorm(manager, name, Some(code)).await?;
        }
        let mut insert = Query::insert();
        insert.into_table(Medications::Table).columns([
            Medications::Id,
            Medications::Name,
            Medications::Kind,
            Medications::Unit,
            Medications::MmeFactor,
            Medications::ConversionTable,
            Medications::Strengths,
            Medications::Rxnorm,
        ]);
        for (name, strengths, rxnorm) in SEDATIVES {
            insert.values_panic([
                medication_id(name).into(),
                name.into(),
                "SEDATIVE".into(),
                "mg".into(),
                Option::<f64>::None.into(),
                Option::<String>::None.into(),
                strengths.into(),
                rxnorm.into(),
            ]);
        }
        manager.exec_stmt(insert).await?;

        // One column per statement: SQLite alters one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(MedicationOrders::Table)
                    .add_column(string_len(MedicationOrders::Indication, 8).default("PAIN"))
                    .to_owned(),
            )
            .await?;
        let oud = Query::update()
            .table(MedicationOrders::Table)
            .value(MedicationOrders::Indication, "OUD")
            .and_where(Expr::col(MedicationOrders::MedicationId).eq(medication_id("buprenorphine")))
            .to_owned();
        manager.exec_stmt(oud).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(TaperPlans::Table)
                    .add_column(text_null(TaperPlans::Reason))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DoseLogs::Table)
                    .add_column(boolean(DoseLogs::ReplacesPatch).default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(DoseLogs::Table)
                    .drop_column(DoseLogs::ReplacesPatch)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(TaperPlans::Table)
                    .drop_column(TaperPlans::Reason)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(MedicationOrders::Table)
                    .drop_column(MedicationOrders::Indication)
                    .to_owned(),
            )
            .await?;
        let sedatives = Query::delete()
            .from_table(Medications::Table)
            .and_where(
                Expr::col(Medications::Id)
                    .is_in(SEDATIVES.iter().map(|(name, _, _)| medication_id(name))),
            )
            .to_owned();
        manager.exec_stmt(sedatives).await?;
        for (name, _) in RXNORM {
            set_rxnorm(manager, name, None).await?;
        }
        for (name, before, _) in STRENGTHS {
            set_strengths(manager, name, before).await?;
        }
        Ok(())
    }
}
