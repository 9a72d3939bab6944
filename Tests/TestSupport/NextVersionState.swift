import Foundation

/// state.json as "the next version" of tandemd would write it: a higher format version, new
/// top-level and nested fields, and enum values this version does not know (a fallback
/// reason, a boot kind, a check result, a result code). An older tandemd runs against exactly
/// this after a fallback, and must still start and bless.
public enum NextVersionState {
    public static let newFallbackReason = "measured boot mismatch"
    public static let newBootKind = "attested-trial"
    public static let newCheckResult = "throttled"
    public static let newResultCode = 42

    /// `state` (a saved state, as JSON) with the next version's additions.
    public static func upgrade(_ state: [String: Any], bootID: String) -> [String: Any] {
        var state = state
        state["version"] = 2
        state["fleetPolicy"] = ["ring": "canary", "weights": [1, 2, 3]] as [String: Any]
        state["attestations"] = [["pcr": 11, "digest": String(repeating: "ab", count: 32)]]
        for key in ["pendingReboot", "trial", "transaction"] {
            if var record = state[key] as? [String: Any] {
                record["measuredDigest"] = "sha256:00"
                state[key] = record
            }
        }
        var quarantine = state["quarantine"] as? [[String: Any]] ?? []
        quarantine.append(["version": "0.9.0", "reason": newFallbackReason, "slot": "B", "bootID": "earlier-boot",
                           "time": 1_780_000_000, "evidence": ["pcr": 11]])
        state["quarantine"] = quarantine
        state["lastBoot"] = ["kind": newBootKind, "bootedSlot": "A", "reason": newFallbackReason, "bootID": "earlier-boot",
                             "time": 1_780_000_000, "message": "from the next version", "attestation": "ok"]
        state["lastCheck"] = ["time": 1_780_000_100, "result": newCheckResult, "version": "", "message": "come back later",
                              "retryAfter": 3600]
        state["lastResult"] = ["transaction": "feedfacecafebeef", "code": newResultCode, "message": "a newer outcome",
                               "version": "0.9.0", "time": 1_780_000_200, "bootID": bootID, "detail": ["step": 3]]
        return state
    }
}
