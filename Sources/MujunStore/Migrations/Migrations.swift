import FluentKit

/// Every migration, in order. Append; never edit one that has shipped.
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
    ]
}
