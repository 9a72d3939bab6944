@testable import Bootloaders
import Foundation
import Slots
import Testing
import TestSupport

/// The shipped GRUB fragment, without a GRUB to boot: grub-script-check (GRUB's own parser)
/// accepts it, and bash runs its logic (its if-chains, `[` tests and `set` are GRUB's subset
/// of the shell's) for every priority and every count of tries of both slots, against
/// Tandem's model: `gptprio.next`'s choice and its countdown.
struct GrubFragmentTests {
    static let uuids: [SlotName: GUID] = [.a: GUID(TestDisk.usrAUUID)!, .b: GUID(TestDisk.usrBUUID)!]
    static let fragment = GrubFragment.text(partitionUUIDs: uuids, kernelOptions: "console=ttyS0,115200n8 rd.shell=0")

    @Test func grubsOwnParserAcceptsIt() throws {
        try Integration.require(Shell.which("grub-script-check"), "grub-script-check is missing (apt-get install grub-common)")
        let scratch = try Scratch()
        let path = try scratch.write(Self.fragment, to: "tandem.cfg")
        let output = try Shell.capture(["grub-script-check", path])
        #expect(output.status == 0, "\(output.stderr)")
        // A broken script is refused, so the check has teeth.
        let broken = try scratch.write(Self.fragment.replacingOccurrences(of: "\nfi\n", with: "\n"), to: "broken.cfg")
        #expect(try Shell.capture(["grub-script-check", broken]).status != 0)
    }

    /// One boot as bash runs the fragment: the stored strings in, what GRUB would do out.
    struct Case {
        var a: (priority: String, tries: String, good: String)
        var b: (priority: String, tries: String, good: String)
        var booted = ""
        var bootedTrial = "0"
        var saveFails = false

        var input: String {
            [a.priority, a.tries, a.good, b.priority, b.tries, b.good, booted, bootedTrial, saveFails ? "1" : "0"]
                .map { $0.isEmpty ? "-" : $0 }.joined(separator: " ")
        }

        /// What Tandem's model says the fragment does.
        var expected: String {
            let environment = GrubEnvironment(variables: [
                .init("TANDEM_A_PRIORITY", a.priority), .init("TANDEM_A_TRIES", a.tries), .init("TANDEM_A_GOOD", a.good),
                .init("TANDEM_B_PRIORITY", b.priority), .init("TANDEM_B_TRIES", b.tries), .init("TANDEM_B_GOOD", b.good),
            ])
            let decoded = GrubBootVariables.decode(environment)
            var table = BootTable(attributes: [1: decoded.attributes[.a]!, 2: decoded.attributes[.b]!], bootPartitions: [1, 2])
            guard let (partition, trial) = table.takeNextBoot() else {
                return "none|\(a.tries)|\(b.tries)|\(booted)|\(bootedTrial)|-|-"
            }
            let slot = partition == 1 ? "a" : "b"
            let tries = (partition == 1 ? "\(table[1].tries)" : a.tries, partition == 2 ? "\(table[2].tries)" : b.tries)
            let shownTries = trial ? tries : (a.tries, b.tries)
            let changed = trial || booted != slot || bootedTrial != (trial ? "1" : "0")
            let saved = changed ? "TANDEM_A_TRIES TANDEM_B_TRIES TANDEM_BOOTED TANDEM_BOOTED_TRIAL" : "-"
            let uuid = GrubFragmentTests.uuids[slot == "a" ? .a : .b]!
            let boot = trial && saveFails
                ? "-"
                : "/tandem/\(slot)/vmlinuz console=ttyS0,115200n8 rd.shell=0 tandem.slot=\(slot) mount.usr=PARTUUID=\(uuid) + /tandem/\(slot)/initrd.img"
            return "\(slot)|\(shownTries.0)|\(shownTries.1)|\(slot)|\(trial ? 1 : 0)|\(saved)|\(boot)"
        }
    }

    /// Sources the fragment once per input line, with GRUB's commands as shell functions.
    static let driver = #"""
    set() { printf -v "${1%%=*}" '%s' "${1#*=}"; }
    insmod() { :; }
    search() { :; }
    echo() { :; }
    load_env() {
      TANDEM_A_PRIORITY=$in_ap TANDEM_A_TRIES=$in_at TANDEM_A_GOOD=$in_ag
      TANDEM_B_PRIORITY=$in_bp TANDEM_B_TRIES=$in_bt TANDEM_B_GOOD=$in_bg
      TANDEM_BOOTED=$in_booted TANDEM_BOOTED_TRIAL=$in_trial
    }
    save_env() { out_saved="${*:3}"; [ "$in_save_fails" = 0 ]; }
    linux() { out_linux="$*"; }
    initrd() { out_initrd="$*"; }
    boot() { out_boot="$out_linux + $out_initrd"; }
    unhyphen() { [ "$1" = - ] && printf '' || printf '%s' "$1"; }
    while read -r ap at ag bp bt bg booted trial fails; do
      in_ap=$(unhyphen "$ap") in_at=$(unhyphen "$at") in_ag=$(unhyphen "$ag")
      in_bp=$(unhyphen "$bp") in_bt=$(unhyphen "$bt") in_bg=$(unhyphen "$bg")
      in_booted=$(unhyphen "$booted") in_trial=$(unhyphen "$trial") in_save_fails=$fails
      out_saved=- out_boot=- out_linux= out_initrd=
      source "$1"
      printf '%s|%s|%s|%s|%s|%s|%s\n' "${tandem_slot:-none}" "$TANDEM_A_TRIES" "$TANDEM_B_TRIES" \
        "$TANDEM_BOOTED" "$TANDEM_BOOTED_TRIAL" "$out_saved" "$out_boot"
    done
    """#

    static func run(_ cases: [Case]) throws -> [String] {
        let scratch = try Scratch()
        let fragment = try scratch.write(Self.fragment, to: "tandem.cfg")
        let driver = try scratch.write(Self.driver, to: "driver.sh")
        let input = try scratch.write(cases.map(\.input).joined(separator: "\n") + "\n", to: "input")
        let output = try Shell.capture(["bash", "-c", "bash \"$0\" \"$1\" < \"$2\"", driver, fragment, input])
        #expect(output.status == 0, "\(output.stderr)")
        return output.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    static func check(_ cases: [Case]) throws {
        let results = try run(cases)
        #expect(results.count == cases.count)
        for (testCase, result) in zip(cases, results) {
            #expect(result == testCase.expected, "input \(testCase.input)")
        }
    }

    @Test func everyPairOfPrioritiesChoosesAsTheModel() throws {
        try Integration.require(Shell.which("bash"), "bash is missing")
        let others: [(String, String, String, String)] = [("0", "0", "1", "1"), ("1", "0", "0", "1"), ("0", "3", "1", "0"),
                                                          ("0", "0", "0", "0"), ("2", "15", "0", "0")]
        var cases: [Case] = []
        for pa in 0...15 {
            for pb in 0...15 {
                for (ta, tb, ga, gb) in others {
                    cases.append(Case(a: ("\(pa)", ta, ga), b: ("\(pb)", tb, gb), booted: "a"))
                }
            }
        }
        try Self.check(cases)
    }

    @Test func everyPairOfTriesCountsDownAsTheModel() throws {
        try Integration.require(Shell.which("bash"), "bash is missing")
        let priorities = [("1", "2"), ("2", "1"), ("3", "3"), ("0", "5")]
        var cases: [Case] = []
        for ta in 0...15 {
            for tb in 0...15 {
                for (pa, pb) in priorities {
                    for (ga, gb) in [("0", "0"), ("1", "0")] {
                        cases.append(Case(a: (pa, "\(ta)", ga), b: (pb, "\(tb)", gb), booted: "b", bootedTrial: "1"))
                    }
                }
            }
        }
        try Self.check(cases)
    }

    /// Values the fragment does not recognise count as 0 (never a boot from garbage), as
    /// Tandem reads them; a good slot booting again saves nothing; a trial whose try cannot be
    /// saved is not booted.
    @Test func garbageRecordsAndFailedSaves() throws {
        try Integration.require(Shell.which("bash"), "bash is missing")
        var cases: [Case] = []
        for garbage in ["07", "16", "", "x", "-1", "1x", "0x1", "+1"] {
            cases.append(Case(a: (garbage, "0", "1"), b: ("1", "0", "1")))
            cases.append(Case(a: ("2", garbage, "0"), b: ("1", "0", "1")))
            cases.append(Case(a: ("2", "0", garbage), b: ("1", "0", "1")))
            cases.append(Case(a: ("1", "0", "1"), b: ("2", garbage, garbage)))
            cases.append(Case(a: (garbage, garbage, garbage), b: (garbage, garbage, garbage)))
        }
        for (booted, trial) in [("a", "0"), ("a", "1"), ("b", "0"), ("", "0"), ("x", "2")] {
            cases.append(Case(a: ("2", "0", "1"), b: ("1", "0", "1"), booted: booted, bootedTrial: trial))
        }
        cases.append(Case(a: ("1", "0", "1"), b: ("2", "1", "0"), saveFails: true))
        cases.append(Case(a: ("2", "0", "1"), b: ("1", "0", "1"), booted: "b", saveFails: true))
        try Self.check(cases)
        #expect(try Self.run([Case(a: ("1", "0", "1"), b: ("2", "1", "0"), saveFails: true)]).first?.hasSuffix("|-") == true)
    }
}
