/// The class of a failed agent attempt, for routing between upstreams.
public enum UpstreamErrorClass: String, Sendable, CaseIterable {
    case rateLimited = "rate-limited"
    case quotaExhausted = "quota"
    case overloaded = "overloaded"
    case connection = "connection"
    case auth = "auth"
    case contextTooLong = "context-too-long"
    case badOutput = "bad-output"
    case unknown = "unknown"
}

/// What the classifier concluded and from where.
public struct FailureDiagnosis: Sendable, Equatable {
    public var errorClass: UpstreamErrorClass
    public var httpStatus: Int?
    public var retryAfterMilliseconds: Int64?
    public var message: String
    public var source: String

    public init(
        errorClass: UpstreamErrorClass, httpStatus: Int? = nil, retryAfterMilliseconds: Int64? = nil,
        message: String, source: String
    ) {
        self.errorClass = errorClass
        self.httpStatus = httpStatus
        self.retryAfterMilliseconds = retryAfterMilliseconds
        self.message = message
        self.source = source
    }
}

/// Classifies failed attempts (placeholder until the full classifier lands in this file).
public enum FailureClassifier {
    public static func fromReportedKind(_ kind: String, message: String, retryAfterMilliseconds: Int64?) -> FailureDiagnosis? {
        let map: [String: UpstreamErrorClass] = [
            "rate-limited": .rateLimited, "quota": .quotaExhausted, "overloaded": .overloaded,
            "server-error": .overloaded, "upstream": .overloaded, "connection": .connection, "auth": .auth,
            "context-too-long": .contextTooLong, "bad-output": .badOutput,
        ]
        guard let errorClass = map[kind] else { return nil }
        return FailureDiagnosis(
            errorClass: errorClass, retryAfterMilliseconds: retryAfterMilliseconds, message: message,
            source: "results.json")
    }

    public static func classify(stdout: [UInt8], stderr: [UInt8], exitCode: Int32?) -> FailureDiagnosis? {
        nil
    }
}
