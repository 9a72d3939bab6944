/// The server answered, but declined the check for now: an `app` status other than `ok`, or
/// an `updatecheck` status `error-…`. Nebraska answers like this when a group's rollout policy
/// holds machines back, so it means "try later", not "something is broken".
public struct OmahaRefusal: Hashable, Sendable, CustomStringConvertible {
    /// The status as the server sent it, e.g. `error-maxUpdatesPerPeriodLimitReached`.
    public var status: String

    public init(status: String) {
        self.status = status
    }

    public var description: String {
        let reason = switch status {
        case "error-updatesDisabled":
            "updates are disabled for this group, or it is outside the group's office hours"
        case "error-maxUpdatesPerPeriodLimitReached":
            "the group has had as many updates as its policy allows in this period"
        case "error-maxConcurrentUpdatesLimitReached":
            "the group has as many updates in progress as its policy allows"
        case "error-maxTimedOutUpdatesLimitReached":
            "too many updates in this group timed out, so the server stopped the rollout"
        case "error-updateInProgressOnInstance":
            "the server believes an update of this machine is still in progress"
        case "error-noPackageFound":
            "the group's channel has no package"
        case "error-unknownApplication", "error-unknownApplicationOrGroup", "error-failedToRetrieveUpdatePackageInfo":
            "the server does not know this application or group; check GROUP= and the application id"
        default:
            "the server declined the check"
        }
        return "\(reason) (status \"\(clipped(status))\"); Tandem will check again later"
    }
}
