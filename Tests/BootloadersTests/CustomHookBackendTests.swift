import Bootloaders
import Foundation
import Platform
import Slots
import Testing
import TestSupport

/// The custom backend against a real hook script that keeps the state in files, judged by
/// reading those files.
struct CustomHookBackendTests {
    @Test func theLifecycleLandsInTheHooksFilesAndNowhereElse() throws {
        let fixture = try HookFixture()
        let before = try fixture.disk.snapshot()
        let control = fixture.control(hook: try fixture.stateHook())

        // A fresh hook reads both slots as unbootable; the initial state: A good and first.
        #expect(try control.read().table.nextBoot() == nil)
        try control.update { $0.markGood(3) }
        #expect(try fixture.stored("a") == "priority=1 tries=0 good=1")
        #expect(try fixture.stored("b") == "priority=0 tries=0 good=0")

        try control.setTrial(.b, tries: 3)
        #expect(try fixture.stored("b") == "priority=2 tries=3 good=0")
        #expect(try fixture.stored("a") == "priority=1 tries=0 good=1")

        let boot = try control.nextBoot(commit: true)
        #expect(boot.slot.name == .b && boot.consumesTry)
        #expect(try fixture.stored("b") == "priority=2 tries=2 good=0")

        try control.markGood(.b)
        #expect(try fixture.stored("b") == "priority=2 tries=0 good=1")

        try control.prioritize(.a)
        #expect(try fixture.stored("a") == "priority=2 tries=0 good=1")
        #expect(try fixture.stored("b") == "priority=1 tries=0 good=1")

        try control.markBad(.a)
        #expect(try fixture.stored("a") == "priority=0 tries=0 good=0")
        #expect(try control.nextBoot(commit: false).slot.name == .b)

        #expect(try fixture.disk.identical(to: before), "the custom backend must not touch the GPT")
    }

    @Test func theHookGetsTheSlotsInACleanEnvironment() throws {
        let fixture = try HookFixture()
        let backend = CustomHookBackend(hook: CustomHook(path: try fixture.stateHook()), esp: "/boot/efi")
        _ = try backend.read(fixture.pair)
        let environment = Set(try String(contentsOfFile: fixture.scratch.file("state/env"), encoding: .utf8)
            .split(separator: "\n").map(String.init))
        for expected in ["TANDEM_HOOK_INTERFACE=1", "TANDEM_DISK=\(fixture.disk.path)",
                         "TANDEM_SLOT_A_PARTITION=3", "TANDEM_SLOT_B_PARTITION=4",
                         "TANDEM_SLOT_A_PARTUUID=\(TestDisk.usrAUUID)", "TANDEM_SLOT_B_PARTUUID=\(TestDisk.usrBUUID)",
                         "TANDEM_ESP=/boot/efi"] {
            #expect(environment.contains(expected), "\(expected) missing from \(environment.sorted())")
        }
        // Nothing of the caller's environment but PATH (the shell adds PWD, SHLVL and _).
        let names = Set(environment.compactMap { $0.split(separator: "=").first.map(String.init) })
        let unexpected = names.subtracting(["PATH", "PWD", "SHLVL", "_"]).filter { !$0.hasPrefix("TANDEM_") }
        #expect(unexpected.isEmpty, "leaked into the hook: \(unexpected.sorted())")
    }

    @Test func theHookGetsNoneOfTandemsDescriptors() throws {
        let fixture = try HookFixture()
        let hook = try fixture.script("fd-hook", """
            ls /proc/self/fd > '\(fixture.scratch.file("fds"))'
            echo "priority=0 tries=0 good=0"
            """)
        // An open descriptor without close-on-exec, as a leaked lock or socket would be.
        let leaked = open(fixture.disk.path, O_RDONLY)
        defer { close(leaked) }
        #expect(leaked > 2)
        _ = try CustomHookBackend(hook: CustomHook(path: hook)).read(fixture.pair)
        let descriptors = try String(contentsOfFile: fixture.scratch.file("fds"), encoding: .utf8)
            .split(separator: "\n").compactMap { Int($0) }
        // 0-2, and the one ls opened on /proc/self/fd.
        #expect(descriptors.count == 4 && !descriptors.contains(Int(leaked)), "\(descriptors)")
    }

    @Test func aTrialLowersTheOtherSlotFirstAndRaisesTheNewOneLast() throws {
        let fixture = try HookFixture()
        let hook = try fixture.stateHook()
        try fixture.setStored("a", "priority=15 tries=0 good=1")
        let control = fixture.control(hook: hook)
        fixture.clearCalls()
        try control.setTrial(.b, tries: 1)
        #expect(fixture.calls.filter { $0.hasPrefix("set-state") }
            == ["set-state a priority=1 tries=0 good=1", "set-state b priority=2 tries=1 good=0"])

        // The same change with the second call failing leaves A booting, as before.
        try fixture.setStored("a", "priority=15 tries=0 good=1")
        try fixture.setStored("b", "priority=0 tries=0 good=0")
        try fixture.scratch.write("", to: "state/fail-set-b")
        #expect {
            try control.setTrial(.b, tries: 1)
        } throws: { error in
            guard case SlotError.bootBackend(.hookFailed(_, "set-state b priority=2 tries=1 good=0", let detail)) = error
            else { return false }
            return detail.contains("exited with status 1") && detail.contains("flash write failed")
        }
        #expect(try control.read().table.nextBoot() == 3)
        #expect(try fixture.stored("b") == "priority=0 tries=0 good=0")
    }

    @Test func invalidatingWritesOnlyTheTarget() throws {
        let fixture = try HookFixture()
        try fixture.setStored("a", "priority=1 tries=0 good=1")
        try fixture.setStored("b", "priority=2 tries=0 good=1")
        let control = fixture.control(hook: try fixture.stateHook())
        fixture.clearCalls()
        try control.invalidate(.b)
        #expect(fixture.calls.filter { $0.hasPrefix("set-state") } == ["set-state b priority=0 tries=0 good=0"])
        #expect(try fixture.stored("a") == "priority=1 tries=0 good=1")
    }

    /// Between two atomic calls the bootloader sees one slot new and one old: the order must
    /// keep that mixture bootable, preferring the old choice.
    @Test func theWriteOrderNeverPassesThroughAnUnbootableState() throws {
        let fixture = try HookFixture()
        let a = fixture.pair.a, b = fixture.pair.b
        func table(_ a: BootAttributes, _ b: BootAttributes) -> BootTable {
            BootTable(attributes: [3: a, 4: b], bootPartitions: [3, 4])
        }
        let good = { (priority: UInt8) in BootAttributes(priority: priority, tries: 0, successful: true) }
        let dead = BootAttributes(priority: 0, tries: 0, successful: false)
        let trial = { (priority: UInt8) in BootAttributes(priority: priority, tries: 1, successful: false) }

        // A trial of B, A lowered: A first (A still boots), then B.
        #expect(CustomHookBackend.writeOrder([a, b], from: table(good(15), dead), to: table(good(1), trial(2))).map(\.name) == [.a, .b])
        // The mirror image, whichever order the slots come in.
        #expect(CustomHookBackend.writeOrder([a, b], from: table(dead, good(15)), to: table(trial(2), good(1))).map(\.name) == [.b, .a])
        // A swap: B becomes the only bootable slot and A dies. Writing A first would leave
        // nothing bootable in between; B first keeps A booting until the second call.
        #expect(CustomHookBackend.writeOrder([a, b], from: table(good(1), dead), to: table(dead, good(1))).map(\.name) == [.b, .a])
        #expect(CustomHookBackend.writeOrder([b, a], from: table(good(1), dead), to: table(dead, good(1))).map(\.name) == [.b, .a])
    }

    /// Every operation of the lifecycle from every small state (576 tables): when the state
    /// before and the state after both boot something, so does the state between the two calls.
    @Test func noOperationPassesThroughAnUnbootableState() throws {
        let fixture = try HookFixture()
        let pair = fixture.pair
        var states: [BootAttributes] = []
        for priority in UInt8(0)...3 {
            for tries in UInt8(0)...2 {
                for good in [false, true] { states.append(BootAttributes(priority: priority, tries: tries, successful: good)) }
            }
        }
        let operations: [(String, (inout BootTable) -> Void)] = [3, 4].flatMap { (number: Int) -> [(String, (inout BootTable) -> Void)] in
            [("invalidate \(number)", { $0.invalidate(number) }), ("markBad \(number)", { $0.markBad(number) }),
             ("setTrial \(number)", { $0.setTrial(number, tries: 2) }), ("markGood \(number)", { $0.markGood(number) }),
             ("prioritize \(number)", { $0.prioritize(number) })]
        } + [("boot", { _ = $0.takeNextBoot() })]
        var twoCalls = 0, raisedLast = 0
        for a in states {
            for b in states {
                let before = BootTable(attributes: [3: a, 4: b], bootPartitions: [3, 4])
                for (name, operation) in operations {
                    var after = before
                    operation(&after)
                    let changed = pair.slots.filter { after[$0.partition.number] != before[$0.partition.number] }
                    guard changed.count == 2 else { continue }
                    twoCalls += 1
                    let first = CustomHookBackend.writeOrder(changed, from: before, to: after)[0].partition.number
                    var between = before
                    between[first] = after[first]
                    if before.nextBoot() != nil && after.nextBoot() != nil {
                        #expect(between.nextBoot() != nil, "\(name) from \(a) / \(b)")
                    }
                    // A slot that could not boot before (invalidated for an install) and boots
                    // after: its change takes effect with the last call, all at once.
                    if let raised = after.nextBoot(), !before[raised].isBootable, before.nextBoot() != nil {
                        #expect(between.nextBoot() == before.nextBoot(), "\(name) from \(a) / \(b)")
                        raisedLast += 1
                    }
                }
            }
        }
        #expect(twoCalls > 1000 && raisedLast > 50, "\(twoCalls) changes of both slots, \(raisedLast) raising a dead slot")
    }

    @Test func lastBootComesFromGetBootedWhenTheHookHasIt() throws {
        let fixture = try HookFixture()
        let backend = CustomHookBackend(hook: CustomHook(path: try fixture.stateHook()))
        #expect(backend.lastBoot(fixture.pair) == nil, "exit status 2: no record")
        try fixture.scratch.write("slot=b consumed-try=1\n", to: "state/booted")
        #expect(backend.lastBoot(fixture.pair) == LastBoot(slot: .b, consumedTry: true))
        try fixture.scratch.write("slot=a consumed-try=0", to: "state/booted")
        #expect(backend.lastBoot(fixture.pair) == LastBoot(slot: .a, consumedTry: false))
        for garbage in ["slot=c consumed-try=0", "slot=a", "slot=a consumed-try=2", "slot=a consumed-try=0 x=1", ""] {
            try fixture.scratch.write(garbage, to: "state/booted")
            #expect(backend.lastBoot(fixture.pair) == nil, "\(garbage)")
        }
    }

    @Test func artifactsGoUnderTheESPWhenOneIsConfigured() throws {
        let fixture = try HookFixture()
        let hook = CustomHook(path: try fixture.stateHook())
        #expect(try CustomHookBackend(hook: hook).artifactPlacement(for: fixture.pair.b) == nil)
        let placement = try CustomHookBackend(hook: hook, esp: "/boot").artifactPlacement(for: fixture.pair.b)
        #expect(placement == BootArtifactPlacement(directory: "/boot/tandem/b",
                                                   fileNames: [.kernel: "vmlinuz", .initrd: "initrd.img", .uki: "uki.efi"]))
    }

    @Test func theSettingsWantAnExecutableHook() throws {
        let fixture = try HookFixture()
        func detail(_ settings: BootBackendSettings) -> String? {
            do {
                _ = try settings.backend(for: fixture.pair)
                return nil
            } catch {
                guard case let .bootBackend(.notConfigured(.custom, detail)) = error else { return "wrong error \(error)" }
                return detail
            }
        }
        #expect(detail(BootBackendSettings(kind: .custom))?.contains("Hook=") == true)
        #expect(detail(BootBackendSettings(kind: .custom, hook: fixture.scratch.file("missing")))?.contains("not executable") == true)
        let plain = try fixture.scratch.write("#!/bin/sh\n", to: "not-executable")
        #expect(detail(BootBackendSettings(kind: .custom, hook: plain))?.contains("not executable") == true)
        #expect(detail(BootBackendSettings(kind: .custom, hook: fixture.scratch.path))?.contains("not a regular file") == true)
        let backend = try BootBackendSettings(kind: .custom, hook: try fixture.stateHook()).backend(for: fixture.pair)
        #expect(backend.kind == .custom)
    }
}
