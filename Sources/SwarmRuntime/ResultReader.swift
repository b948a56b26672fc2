import SwarmCore
import SwarmProtocol
import SwarmSystem

/// Reads what an agent left behind when its command ended and classifies it.
enum ResultReader {
    /// Largest results.json read, in bytes.
    static let resultLimit = 4 << 20

    /// Bytes read from the end of stdout.log and stderr.log to classify a failure.
    static let tailBytes = 64 * 1024

    /// The parsed results.json, or why it cannot be used.
    static func read(_ path: String) -> Result<JSONValue, SwarmError>? {
        do {
            let bytes = try FileSystem.readFile(path, limit: resultLimit)
            return .success(try JSON.parse(bytes))
        } catch FileReadError.system(.noSuchFile) {
            return nil
        } catch let error as FileReadError {
            return .failure(SwarmError("results.json cannot be read: \(describe(error))"))
        } catch let error as ProtocolError {
            return .failure(SwarmError("results.json is not valid JSON: \(error.description)"))
        } catch {
            return .failure(SwarmError("results.json cannot be read: \(error)"))
        }
    }

    /// Turns the reset a usage limit names into an instant, with a note for a person (nil:
    /// the reset is not known).
    typealias ResetClock = (LimitReset) -> (at: Millis, note: String?)?

    /// The outcome of one run, from results.json (checked against `contract`) and the exit
    /// status. An unknown exit (a run that ended while no daemon watched) counts as clean: an
    /// orchestrator without a result is then idle, a worker without one has failed anyway.
    static func outcome(
        files: AgentFiles, exit: ExitStatus?, contract: ResultContract?, clock: ResetClock = { _ in nil }
    ) -> Outcome {
        outcome(of: read(files.results), files: files, exit: exit, contract: contract, clock: clock)
    }

    /// `outcome(files:exit:contract:)` for a results.json already read (`read`).
    static func outcome(
        of result: Result<JSONValue, SwarmError>?, files: AgentFiles, exit: ExitStatus?,
        contract: ResultContract?,
        clock: ResetClock = { _ in nil }
    ) -> Outcome {
        let status = exit.map(describeExit) ?? "exit status unknown"
        guard let read = result else {
            var code: Int32?
            if case .exited(let value)? = exit { code = value }
            let stdout = (try? FileSystem.readTail(files.stdout, maxBytes: tailBytes)) ?? []
            let stderr = (try? FileSystem.readTail(files.stderr, maxBytes: tailBytes)) ?? []
            if let diagnosis = FailureClassifier.classify(stdout: stdout, stderr: stderr, exitCode: code) {
                return upstreamOutcome(
                    diagnosis, reason: "\(diagnosis.message) (from \(diagnosis.source))", clock: clock)
            }
            return .noResult(exitStatus: status, clean: exit == nil || exit == .exited(0))
        }
        switch read {
        case .failure(let error):
            return .failed(.contract, reason: error.message)
        case .success(let value):
            return classify(value, contract: contract, clock: clock)
        }
    }

    /// The outcome of an upstream failure: a usage limit with its reset (when `clock` knows
    /// it), any other class as it is.
    static func upstreamOutcome(_ diagnosis: FailureDiagnosis, reason: String, clock: ResetClock) -> Outcome {
        guard diagnosis.errorClass == .usageLimit else {
            return .upstreamFailed(
                diagnosis.errorClass, reason: reason, retryAfter: diagnosis.retryAfterMilliseconds)
        }
        let reset = diagnosis.resetsAt.flatMap(clock)
        return .usageLimited(
            reason: reason + (reset?.note.map { "; " + $0 } ?? ""), resetsAt: reset?.at, resumes: true)
    }

    /// Classifies a parsed results.json.
    static func classify(_ value: JSONValue, contract: ResultContract?, clock: ResetClock = { _ in nil })
        -> Outcome
    {
        guard value.objectValue != nil else {
            return .failed(.contract, reason: "results.json must be a JSON object, not \(value.typeName)")
        }
        if value["status"]?.stringValue == "error" {
            let kind = value["error_kind"]?.stringValue ?? ""
            let message = value["error"]?.stringValue ?? "the agent reported an error"
            if let diagnosis = FailureClassifier.fromReportedKind(
                kind, message: message, retryAfterMilliseconds: value["retry_after_ms"]?.intValue)
            {
                return upstreamOutcome(diagnosis, reason: diagnosis.message, clock: clock)
            }
            if kind == "budget" { return .failed(.budget, reason: message) }
            return .failed(.error, reason: kind.isEmpty ? message : "\(kind): \(message)")
        }
        if let contract {
            let violations = contract.violations(in: value)
            if !violations.isEmpty {
                return .failed(
                    .contract,
                    reason: "results.json breaks the contract: " + violations.joined(separator: "; "))
            }
        }
        return .succeeded
    }

    static func describeExit(_ status: ExitStatus) -> String {
        switch status {
        case .exited(let code): "exit status \(code)"
        case .signaled(let signal): "killed by \(Signal.name(signal))"
        }
    }
}
