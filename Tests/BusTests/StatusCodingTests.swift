import BusClient
import BusCore
@testable import BusService
import Slots
import Testing
import UpdateModel

/// The native properties on the wire (`StatusCoding`) and update_engine's five status fields
/// (`CompatStatus`, flatcar-update-engine.md §1.3-1.4). Pure value tests: no bus needed.
@Suite struct StatusCodingTests {
    static let slots = [
        SlotStatus(name: .a, device: "/dev/vda3", label: "USR-A", partition: 3, priority: 1, tries: 0, successful: true,
                   version: "3975.1.0", booted: true, nextBoot: false),
        SlotStatus(name: .b, device: "/dev/vda4", label: "USR-B", partition: 4, priority: 2, tries: 1, successful: false,
                   version: "3975.2.1", booted: false, nextBoot: true),
    ]

    static let lastResult = ResultRecord(
        transaction: "0123456789abcdef", code: .cancelled, message: "cancelled by uid 1000; slot B was left unbootable",
        version: "3975.2.1", time: 1_780_000_000, bootID: "2f1b1d6a-3c5e-4d7f-9a8b-0c1d2e3f4a5b")

    /// Every field set away from its "empty" wire value.
    static func populated(lastResult: ResultRecord? = StatusCodingTests.lastResult,
                          secondsRemaining: Double? = 12.5) -> UpdaterStatus {
        UpdaterStatus(
            operation: .writing, transaction: "00c0ffee12345678",
            progress: ProgressReport(phase: .writing, bytesDone: 300 << 20, bytesTotal: 1 << 30, bytesPerSecond: 98_765_432.5,
                                     secondsRemaining: secondsRemaining),
            newVersion: "3975.2.1", newSize: 1 << 30, bootedSlot: .a, bootedVersion: "3975.1.0", nextBootSlot: .b,
            slots: slots, lastResult: lastResult, rebootPending: true, lastCheckTime: 1_779_999_999)
    }

    // MARK: - StatusCoding

    @Test(arguments: [
        populated(),
        populated(lastResult: nil),
        populated(secondsRemaining: nil),
        populated(lastResult: nil, secondsRemaining: nil),
    ])
    func propertiesRoundTrip(status: UpdaterStatus) throws {
        #expect(try StatusCoding.status(from: StatusCoding.properties(status)) == status)
    }

    @Test func anIdleStatusWithNothingSetRoundTrips() throws {
        let status = UpdaterStatus(
            operation: .idle, transaction: nil, progress: .none, newVersion: nil, newSize: 0, bootedSlot: .b,
            bootedVersion: nil, nextBootSlot: nil, slots: [], lastResult: nil, rebootPending: false, lastCheckTime: 0)
        #expect(try StatusCoding.status(from: StatusCoding.properties(status)) == status)
    }

    /// A disk tandemd cannot read: no booted slot, no slots, and the problem in words.
    @Test func anUnusableDiskRoundTrips() throws {
        let status = UpdaterStatus(
            operation: .idle, transaction: nil, progress: .none, newVersion: nil, newSize: 0, bootedSlot: nil,
            bootedVersion: "1.5.0", nextBootSlot: nil, slots: [], diskProblem: "both GPT copies on /dev/sda are damaged",
            lastResult: nil, rebootPending: false, lastCheckTime: 0)
        let properties = StatusCoding.properties(status)
        #expect(properties["BootedSlot"] == .string("") && properties["DiskProblem"] == .string(status.diskProblem ?? ""))
        #expect(try StatusCoding.status(from: properties) == status)
    }

    /// Every backend's name crosses the bus; one this client does not know reads as unknown.
    @Test(arguments: BootBackendKind.allCases)
    func theBootBackendRoundTrips(kind: BootBackendKind) throws {
        var status = Self.populated()
        status.bootBackend = kind
        let properties = StatusCoding.properties(status)
        #expect(properties["BootBackend"] == .string(kind.rawValue))
        #expect(try StatusCoding.status(from: properties) == status)
        var newer = properties
        newer["BootBackend"] = .string("barebox-state")
        #expect(try StatusCoding.status(from: newer).bootBackend == nil)
    }

    @Test(arguments: UpdateOperation.allCases)
    func everyOperationRoundTrips(operation: UpdateOperation) throws {
        var status = Self.populated()
        status.operation = operation
        #expect(try StatusCoding.status(from: StatusCoding.properties(status)).operation == operation)
    }

    @Test(arguments: ResultCode.allCases)
    func everyResultCodeRoundTrips(code: ResultCode) throws {
        var result = Self.lastResult
        result.code = code
        let decoded = try StatusCoding.status(from: StatusCoding.properties(Self.populated(lastResult: result)))
        #expect(decoded.lastResult == result)
    }

    @Test func noLastResultIsSentAsAnEmptyTransactionAndCodeMinusOne() {
        let properties = StatusCoding.properties(Self.populated(lastResult: nil))
        #expect(properties["LastResult"] == .structure([.string(""), .int32(-1), .string(""), .string(""), .int64(0), .string("")]))
        // An unknown ETA is sent as -1.
        #expect(StatusCoding.properties(Self.populated(secondsRemaining: nil))["Progress"]?.structureValue?[4] == .double(-1))
    }

    @Test func everyPropertyHasTheDeclaredSignature() {
        let properties = StatusCoding.properties(Self.populated())
        let declared = UpdaterAPI.description.properties
        #expect(Set(properties.keys) == Set(declared.map(\.name)), "encoded and declared properties differ")
        for property in declared {
            #expect(properties[property.name]?.signature == property.signature, "\(property.name)")
        }
    }

    @Test func emptyValuesKeepTheirSignatures() {
        let status = UpdaterStatus(
            operation: .idle, transaction: nil, progress: .none, newVersion: nil, newSize: 0, bootedSlot: .a,
            bootedVersion: nil, nextBootSlot: nil, slots: [], lastResult: nil, rebootPending: false, lastCheckTime: 0)
        let properties = StatusCoding.properties(status)
        for property in UpdaterAPI.description.properties {
            #expect(properties[property.name]?.signature == property.signature, "\(property.name)")
        }
    }

    @Test(arguments: UpdaterAPI.description.properties.map(\.name))
    func aMissingPropertyIsNamed(name: String) {
        var properties = StatusCoding.properties(Self.populated())
        properties[name] = nil
        #expect {
            try StatusCoding.status(from: properties)
        } throws: { error in
            guard let error = error as? StatusCoding.DecodingError else { return false }
            return error.property == name && error.description.contains(name)
                && error.description.contains("different versions")
        }
    }

    @Test(arguments: UpdaterAPI.description.properties.map(\.name))
    func aWrongTypedPropertyIsNamed(name: String) {
        var properties = StatusCoding.properties(Self.populated())
        // A variant is a valid D-Bus value but never the declared type of any property.
        properties[name] = .variant(.string("x"))
        #expect {
            try StatusCoding.status(from: properties)
        } throws: { error in
            (error as? StatusCoding.DecodingError)?.property == name
        }
    }

    @Test(arguments: [
        ("Operation", BusValue.string("downloading")),
        ("BootedSlot", .string("C")),
        ("Progress", .structure([.string("writing"), .uint64(1), .uint64(2), .double(3)])),
        ("Progress", .structure([.string("writing"), .uint64(1), .uint64(2), .double(3), .string("soon")])),
        ("Slots", .array(elementSignature: "(sssuyybs)", [.structure([.string("C"), .string(""), .string(""), .uint32(3),
                                                                     .byte(1), .byte(0), .bool(true), .string("")])])),
        ("Slots", .array(elementSignature: "s", [.string("A")])),
        ("LastResult", .structure([.string("t"), .int32(0)])),
        ("NewSize", .int64(5)),
        ("LastCheckTime", .uint64(5)),
        ("RebootPending", .string("yes")),
    ])
    func aValueOfTheRightKindButWrongShapeIsNamed(name: String, value: BusValue) {
        var properties = StatusCoding.properties(Self.populated())
        properties[name] = value
        #expect {
            try StatusCoding.status(from: properties)
        } throws: { error in
            (error as? StatusCoding.DecodingError)?.property == name
        }
    }

    /// A code, kind or result a newer tandemd may add is not an error for an older client: it
    /// shows the result with its number or text.
    @Test func unknownValuesDecodeAsUnknown() throws {
        var properties = StatusCoding.properties(Self.populated())
        properties["LastResult"] = .structure([.string("0123"), .int32(42), .string("m"), .string("v"), .int64(1), .string("b")])
        properties["Boot"] = .structure([.string("attested-trial"), .string("A"), .string(""), .string("new reason"), .string("b"),
                                         .string(""), .int64(1), .string("m")])
        properties["LastCheck"] = .structure([.int64(1), .string("throttled"), .string(""), .string("m")])
        let status = try StatusCoding.status(from: properties)
        #expect(status.lastResult?.code == .unknown(42) && status.lastResult?.message == "m")
        #expect(status.boot?.kind == .unknown("attested-trial") && status.boot?.reason == .unknown("new reason"))
        #expect(status.updates.lastCheck?.result == .unknown("throttled"))
    }

    // MARK: - CompatStatus

    static func status(_ operation: UpdateOperation, rebootPending: Bool = false, newVersion: String? = "3975.2.1",
                       done: UInt64 = 0, total: UInt64 = 0) -> UpdaterStatus {
        UpdaterStatus(
            operation: operation, transaction: operation == .idle ? nil : "00c0ffee12345678",
            progress: ProgressReport(phase: ProgressPhase(rawValue: operation.rawValue), bytesDone: done, bytesTotal: total, bytesPerSecond: 1,
                                     secondsRemaining: nil),
            newVersion: newVersion, newSize: 1 << 30, bootedSlot: .a, bootedVersion: "3975.1.0", nextBootSlot: .b,
            slots: slots, lastResult: nil, rebootPending: rebootPending, lastCheckTime: 1_779_999_999)
    }

    @Test func theStatusStringsAreUpdateEngines() {
        #expect(CompatStatus.idle == "UPDATE_STATUS_IDLE")
        #expect(CompatStatus.checkingForUpdate == "UPDATE_STATUS_CHECKING_FOR_UPDATE")
        #expect(CompatStatus.updateAvailable == "UPDATE_STATUS_UPDATE_AVAILABLE")
        #expect(CompatStatus.downloading == "UPDATE_STATUS_DOWNLOADING")
        #expect(CompatStatus.verifying == "UPDATE_STATUS_VERIFYING")
        #expect(CompatStatus.finalizing == "UPDATE_STATUS_FINALIZING")
        #expect(CompatStatus.updatedNeedReboot == "UPDATE_STATUS_UPDATED_NEED_REBOOT")
        #expect(CompatStatus.reportingErrorEvent == "UPDATE_STATUS_REPORTING_ERROR_EVENT")
        #expect(CompatStatus.versionZero == "0.0.0")
    }

    @Test func idleReportsVersionZero() {
        // Whatever version the native side still remembers, idle means "0.0.0" to update_engine's clients.
        for version in ["3975.2.1", nil] as [String?] {
            let compat = CompatStatus(Self.status(.idle, newVersion: version), acknowledged: false)
            #expect(compat.currentOperation == "UPDATE_STATUS_IDLE")
            #expect(compat.newVersion == "0.0.0")
            #expect(compat.progress == 0)
            #expect(compat.lastCheckedTime == 1_779_999_999)
        }
    }

    @Test func aPendingRebootIsUpdatedNeedReboot() {
        let compat = CompatStatus(Self.status(.idle, rebootPending: true), acknowledged: false)
        #expect(compat.currentOperation == "UPDATE_STATUS_UPDATED_NEED_REBOOT")
        #expect(compat.newVersion == "3975.2.1")
        #expect(compat.newSize == 1 << 30)
        #expect(compat.progress == 0)
    }

    /// ResetStatus while a reboot is pending: idle again, as with update_engine, which also
    /// sets new_version to 0.0.0 and new_size to 0.
    @Test func anAcknowledgedPendingRebootIsIdle() {
        let compat = CompatStatus(Self.status(.idle, rebootPending: true), acknowledged: true)
        #expect(compat.currentOperation == "UPDATE_STATUS_IDLE")
        #expect(compat.newVersion == "0.0.0")
        #expect(compat.newSize == 0)
    }

    /// `acknowledged` only matters while a reboot is pending: it never hides a running update.
    @Test(arguments: [UpdateOperation.checking, .preparing, .writing, .resuming, .verifying, .finalizing])
    func acknowledgedDoesNotHideARunningUpdate(operation: UpdateOperation) {
        let status = Self.status(operation, done: 1, total: 4)
        #expect(CompatStatus(status, acknowledged: true) == CompatStatus(status, acknowledged: false))
        #expect(CompatStatus(status, acknowledged: true).currentOperation != "UPDATE_STATUS_IDLE")
    }

    @Test(arguments: [
        (UpdateOperation.checking, "UPDATE_STATUS_CHECKING_FOR_UPDATE"),
        (.preparing, "UPDATE_STATUS_UPDATE_AVAILABLE"),
        (.writing, "UPDATE_STATUS_DOWNLOADING"),
        (.resuming, "UPDATE_STATUS_DOWNLOADING"),
        (.verifying, "UPDATE_STATUS_VERIFYING"),
        (.finalizing, "UPDATE_STATUS_FINALIZING"),
    ])
    func eachOperationMapsToUpdateEnginesString(operation: UpdateOperation, expected: String) {
        let compat = CompatStatus(Self.status(operation), acknowledged: false)
        #expect(compat.currentOperation == expected)
        #expect(compat.newVersion == "3975.2.1")
        #expect(compat.newSize == 1 << 30)
        #expect(compat.lastCheckedTime == 1_779_999_999)
    }

    @Test(arguments: [UpdateOperation.writing])
    func downloadingReportsTheFractionWritten(operation: UpdateOperation) {
        #expect(CompatStatus(Self.status(operation, done: 1, total: 4), acknowledged: false).progress == 0.25)
        #expect(CompatStatus(Self.status(operation, done: 4, total: 4), acknowledged: false).progress == 1)
        // An unknown total is no progress, never a division by zero.
        #expect(CompatStatus(Self.status(operation, done: 5, total: 0), acknowledged: false).progress == 0)
        // Never beyond 1.0, whatever the counters say.
        #expect(CompatStatus(Self.status(operation, done: 9, total: 4), acknowledged: false).progress == 1)
    }

    /// Re-reading what an interrupted attempt wrote is DOWNLOADING at 0: the fraction then
    /// starts where the resume does, so it never goes backwards.
    @Test func resumingIsDownloadingAtZero() {
        let compat = CompatStatus(Self.status(.resuming, done: 3, total: 4), acknowledged: false)
        #expect(compat.currentOperation == "UPDATE_STATUS_DOWNLOADING")
        #expect(compat.progress == 0)
    }

    /// update_engine's progress is of the download only; it is 0 outside it.
    @Test(arguments: [UpdateOperation.checking, .preparing, .verifying, .finalizing, .idle])
    func progressIsZeroOutsideTheDownload(operation: UpdateOperation) {
        #expect(CompatStatus(Self.status(operation, done: 3, total: 4), acknowledged: false).progress == 0)
    }

    @Test func aHugeSizeIsClampedNotTrapped() {
        var status = Self.status(.writing)
        status.newSize = UInt64.max
        #expect(CompatStatus(status, acknowledged: false).newSize == Int64.max)
    }

    @Test func theArgumentsAreXDSSXInOrder() {
        let compat = CompatStatus(Self.status(.writing, done: 1, total: 2), acknowledged: false)
        #expect(compat.arguments.map(\.signature).joined() == "xdssx")
        #expect(compat.arguments == [.int64(1_779_999_999), .double(0.5), .string("UPDATE_STATUS_DOWNLOADING"),
                                     .string("3975.2.1"), .int64(1 << 30)])
        // The same signature GetStatus and StatusUpdate declare.
        #expect(compat.arguments.map(\.signature).joined() == CompatAPI.description.signals.first?.signature)
        #expect(CompatAPI.description.methods.first { $0.name == "GetStatus" }?.outputSignature == "xdssx")
    }
}
