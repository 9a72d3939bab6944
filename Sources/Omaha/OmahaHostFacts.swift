import Platform
import SystemPackage

/// What a request says about this machine that no configuration file sets: its machine id, this
/// boot's id, and the OEM (platform) image it runs on.
public struct OmahaHostFacts: Hashable, Sendable {
    public static let machineIDPath = "/etc/machine-id"
    /// Searched key by key, as update_engine does: the first file with `ID` gives `oem`, the
    /// first with `VERSION_ID` gives `oemversion`.
    public static let oemReleasePaths = ["/etc/oem-release", "/usr/share/oem/oem-release"]

    /// `/etc/machine-id` trimmed; sent without braces.
    public var machineID: String
    /// The kernel's boot id, without braces.
    public var bootID: String
    /// `ID` from oem-release; empty when there is none, as update_engine sends it.
    public var oem: String
    /// `VERSION_ID` from oem-release; empty when there is none.
    public var oemVersion: String

    /// Reads the facts under `root` (`""` for the running system). `bootID` comes from the
    /// caller, which already reads it (or simulates it) for its own records.
    public static func gather(root: String = "", bootID: String) throws(OmahaHostError) -> OmahaHostFacts {
        let path = root + machineIDPath
        let bytes: [UInt8]
        do {
            bytes = try FileDescriptor.contents(of: FilePath(path), limit: FlatcarKeyValueFiles.sizeLimit)
        } catch .noSuchFileOrDirectory, .notDirectory {
            throw .noMachineID(path: path)
        } catch .fileTooLarge {
            throw .tooLarge(path: path, limit: FlatcarKeyValueFiles.sizeLimit)
        } catch {
            throw .unreadable(path: path, reason: error.description)
        }
        let machineID = String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
        // systemd writes "uninitialized" until the first boot completes: no id yet.
        guard !machineID.isEmpty, machineID != "uninitialized" else { throw .noMachineID(path: path) }
        let oem = try FlatcarKeyValueFiles(root: root, paths: oemReleasePaths)
        return OmahaHostFacts(machineID: machineID, bootID: bootID, oem: oem["ID"] ?? "",
                              oemVersion: oem["VERSION_ID"] ?? "")
    }

    /// A request from this machine: these facts, and what the configuration and the records say.
    public func request(_ body: OmahaRequest.Body, installSource: OmahaRequest.InstallSource, appID: String,
                        version: String, track: String, machineAlias: String, alephVersion: String,
                        board: String, architecture: String) -> OmahaRequest {
        OmahaRequest(installSource: installSource, appID: appID, version: version, track: track, bootID: bootID,
                     oem: oem, oemVersion: oemVersion, alephVersion: alephVersion, machineID: machineID,
                     machineAlias: machineAlias, board: board, architecture: architecture, body: body)
    }
}
