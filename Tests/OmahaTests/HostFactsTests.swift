import Foundation
import FoundationXML
import Omaha
import TestSupport
import Testing

@Suite struct HostFactsTests {
    static let bootID = "0f3e7a4c-5d1b-4c2e-9a8f-1b2c3d4e5f60"

    static func root(_ files: [String: String]) throws -> Scratch {
        let root = try Scratch()
        for (name, text) in files {
            try root.write(text, to: name)
        }
        return root
    }

    @Test func factsFromAPreparedRoot() throws {
        let root = try Self.root([
            "etc/machine-id": "b4c1a8e2f7d94c3a9e1f0a2b3c4d5e6f\n",
            "etc/oem-release": "ID=\"qemu\"\nNAME='QEMU'\n",
            "usr/share/oem/oem-release": "ID=ami\nVERSION_ID=0.1\n",
        ])
        let facts = try OmahaHostFacts.gather(root: root.path, bootID: Self.bootID)
        #expect(facts.machineID == "b4c1a8e2f7d94c3a9e1f0a2b3c4d5e6f")
        #expect(facts.bootID == Self.bootID)
        // Key by key: ID from /etc, VERSION_ID from /usr/share, which /etc does not set.
        #expect(facts.oem == "qemu")
        #expect(facts.oemVersion == "0.1")
    }

    @Test func noOEMReleaseIsEmpty() throws {
        let root = try Self.root(["etc/machine-id": "  b4c1a8e2f7d94c3a9e1f0a2b3c4d5e6f  "])
        let facts = try OmahaHostFacts.gather(root: root.path, bootID: Self.bootID)
        #expect(facts.machineID == "b4c1a8e2f7d94c3a9e1f0a2b3c4d5e6f")
        #expect(facts.oem == "")
        #expect(facts.oemVersion == "")
    }

    @Test(arguments: [nil, "", "\n", "uninitialized\n"])
    func noMachineIDSaysWhatToDo(_ content: String?) throws {
        let root = try Self.root(content.map { ["etc/machine-id": $0] } ?? [:])
        let path = root.file("etc/machine-id")
        #expect(throws: OmahaHostError.noMachineID(path: path)) {
            try OmahaHostFacts.gather(root: root.path, bootID: Self.bootID)
        }
        #expect("\(OmahaHostError.noMachineID(path: path))".contains("systemd-machine-id-setup"))
    }

    @Test func theRequestCarriesTheFactsAndTheConfiguration() throws {
        let root = try Self.root([
            "etc/machine-id": "b4c1a8e2f7d94c3a9e1f0a2b3c4d5e6f\n",
            "usr/share/oem/oem-release": "ID=qemu\nVERSION_ID=\"0.1\"\n",
            "etc/flatcar/update.conf": "GROUP=beta\nMACHINE_ALIAS=web-1\n",
            "usr/share/flatcar/update.conf": "SERVER=https://public.update.flatcar-linux.net/v1/update/\nGROUP=stable\n",
            "usr/share/flatcar/release": "FLATCAR_RELEASE_VERSION=4459.0.0\nFLATCAR_RELEASE_BOARD=amd64-usr\n"
                + "FLATCAR_RELEASE_APPID={e96281a6-d1af-4bde-9a0a-97b76e56dc57}\n",
        ])
        let configuration = try FlatcarUpdateConfiguration.load(root: root.path)
        let facts = try OmahaHostFacts.gather(root: root.path, bootID: Self.bootID)
        let request = facts.request(.updateCheck(previousVersion: "4426.0.0"), installSource: .scheduler,
                                    appID: configuration.appID, version: try #require(configuration.version),
                                    track: configuration.group, machineAlias: configuration.machineAlias,
                                    alephVersion: "3975.2.0", board: try #require(configuration.board),
                                    architecture: "x86_64")
        let document = try XMLDocument(data: Data(request.xml()))
        let app = try #require(document.rootElement()?.elements(forName: "app").first)
        #expect(RequestTests.attributes(app) == [
            "appid": "{e96281a6-d1af-4bde-9a0a-97b76e56dc57}", "version": "4459.0.0", "track": "beta",
            "bootid": "{\(Self.bootID)}", "oem": "qemu", "oemversion": "0.1", "alephversion": "3975.2.0",
            "machineid": "b4c1a8e2f7d94c3a9e1f0a2b3c4d5e6f", "machinealias": "web-1", "lang": "en-US",
            "board": "amd64-usr", "hardware_class": "", "delta_okay": "false",
        ])
        let os = try #require(document.rootElement()?.elements(forName: "os").first)
        #expect(os.attribute(forName: "sp")?.stringValue == "4459.0.0_x86_64")
        #expect(document.rootElement()?.attribute(forName: "installsource")?.stringValue == "scheduler")
        let event = try #require(app.elements(forName: "event").first)
        #expect(event.attribute(forName: "previousversion")?.stringValue == "4426.0.0")
    }
}
