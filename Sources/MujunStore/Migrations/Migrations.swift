import FluentKit

/// Every migration, in order. Append; never edit one that has shipped.
///
/// One migration per file, `NNN/TypeName.swift`. Fluent records a migration by its type name,
/// so a type may move to another file but must never be renamed.
public enum MujunMigrations {
    public static let all: [any Migration] = [
        CreateEnterpriseYear(),
        CreateImportBatch(),
        CreateEvaluationRun(),
        CreateEvaluationResult(),
        CreateAuditEntry(),
        CreateAccounts(),
        CreatePublicationAndAppeals(),
        CreateLand(),
        CreateDataRevisions(),
        AddForeignKeys(),
        AddCaseEventChecks(),
        AddCurrentRunIndex(),
        CreateCases(),
        CreateBulletins(),
        CreateCaseWork(),
        CreateCalendarYears(),
        MoveAppealsOntoCases(),
        AddCoUnitIndex(),
        AddParcelDates(),
        CreateProjects(),
        CreateProjectTargets(),
        CreateChallenges(),
        CreateProjectBulletins(),
        AddProjectCheckedMonth(),
        CreateQuotaLedger(),
        CreateSignInFailures(),
        AddCalendarRevision(),
        CreateJobRuns(),
        AddNotifyFollowUnit(),
    ]
}
