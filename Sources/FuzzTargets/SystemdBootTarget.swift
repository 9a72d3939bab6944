import Bootloaders
import Slots

/// What the systemd-boot backend parses from the ESP and efivarfs: loader entry names, an
/// entry's contents, loader.conf and a loader variable. The input is those four pieces
/// separated by NUL bytes, the names one per line.
enum SystemdBootTarget {
    static func run(_ input: [UInt8]) -> FuzzOutcome {
        FuzzOutcome {
            let pieces = input.split(separator: 0, maxSplits: 3, omittingEmptySubsequences: false)
            func piece(_ index: Int) -> String {
                index < pieces.count ? String(decoding: pieces[index], as: UTF8.self) : ""
            }
            for name in piece(0).split(separator: "\n") {
                // The fuzzer's oracle: what Tandem would rename an entry to parses back to the
                // same slot and counter, so a rename never turns a slot into a foreign entry.
                guard case let .entry(entry) = SystemdBootEntryName.parse(String(name)) else { continue }
                precondition(SystemdBootEntryName.parse(entry.fileName) == .entry(entry), "\(name) does not round-trip")
                if let counter = entry.counter {
                    let booted = SystemdBootEntryName(slot: entry.slot, counter: counter.afterBoot())
                    precondition(SystemdBootEntryName.parse(booted.fileName) == .entry(booted), "\(name) after a boot")
                }
            }
            if let loader = SystemdBootEntryFile.loaderPath(in: piece(1)) {
                precondition(!loader.split(separator: "/").contains("..") && !loader.hasPrefix("/"), "\(loader) leaves the ESP")
            }
            let loaderConf = try SystemdBootLoaderConf.parse(piece(2))
            for slot in SlotName.allCases {
                let rewritten = try SystemdBootLoaderConf.parse(loaderConf.rendered(first: slot))
                precondition(rewritten.first == slot, "a rewritten loader.conf does not put \(slot) first")
            }
            _ = LoaderVariables.decode(Array(pieces.count > 3 ? pieces[3] : []))
        }
    }
}
