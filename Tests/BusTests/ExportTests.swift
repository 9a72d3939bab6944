import BusCore
import Foundation
import Testing
import TestSupport

/// The exported object seen through busctl, an independent client.
@Suite struct ExportTests {
    @Test func busctlIntrospectShowsTheDescriptions() throws {
        try Integration.requireDBus()
        let service = try TestService()
        let output = try service.busctl(["introspect", TestAPI.name, TestAPI.path])
        #expect(output.status == 0, "\(output.stderr)")
        let rows = output.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        func row(_ name: String) -> [String]? { rows.first { $0.first == name } }
        #expect(row("org.tandem.Test1") == ["org.tandem.Test1", "interface", "-", "-", "-"])
        #expect(row("org.tandem.Other1") == ["org.tandem.Other1", "interface", "-", "-", "-"])
        #expect(row("org.freedesktop.DBus.Peer") != nil)
        #expect(row(".Add") == [".Add", "method", "xx", "x", "-"])
        #expect(row(".EchoAll") == [".EchoAll", "method", "a(sssyybs)(sttdd)a{sv}(sisxxs)", "a(sssyybs)(sttdd)a{sv}(sisxxs)", "-"])
        #expect(row(".Name") == [".Name", "property", "s", "\"initial\"", "emits-change"])
        #expect(row(".Version") == [".Version", "property", "s", "\"1.0\"", "const"])
        #expect(row(".Counter") == [".Counter", "property", "t", "0", "emits-invalidation"])
        #expect(row(".Secret") == [".Secret", "property", "s", "\"hidden\"", "-"])
        #expect(row(".Answer") == [".Answer", "property", "u", "42", "const"])
        #expect(row(".Touched") == [".Touched", "signal", "s", "-", "-"])
    }

    @Test func introspectionXMLCarriesAnnotationsAndChildren() throws {
        try Integration.requireDBus()
        let service = try TestService()
        let output = try service.busctl(["--json=short", "call", TestAPI.name, TestAPI.path,
                                         "org.freedesktop.DBus.Introspectable", "Introspect"])
        let reply = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        let xml = try #require((reply?["data"] as? [Any])?.first as? String, "\(output.stderr)")
        #expect(xml.contains(#"<annotation name="org.freedesktop.DBus.Property.EmitsChangedSignal" value="const"/>"#))
        #expect(xml.contains(#"value="invalidates""#))
        #expect(xml.contains(#"value="false""#))
        #expect(xml.contains(#"<node name="child"/>"#))
        #expect(xml.contains(#"<interface name="org.freedesktop.DBus.Properties">"#))

        // sd-bus answers for the parents; busctl tree walks down to both objects.
        let tree = try service.busctl(["tree", TestAPI.name])
        #expect(tree.status == 0)
        let paths = tree.stdout.split(separator: "\n").map { $0.drop { !"/".contains($0) } }
        #expect(paths == ["/org", "/org/tandem", "/org/tandem/Test", "/org/tandem/Test/child"])
        // --xml-interface: the child's Broken1 properties cannot all be read, which plain
        // introspect would try.
        let child = try service.busctl(["introspect", "--xml-interface", TestAPI.name, TestAPI.childPath])
        #expect(child.stdout.contains("org.tandem.Broken1"))
        #expect(!child.stdout.contains("org.tandem.Test1"))
    }

    @Test func busctlCallsMethods() throws {
        try Integration.requireDBus()
        let service = try TestService()
        #expect(try service.busctlJSON(["--", "call", TestAPI.name, TestAPI.path, TestAPI.interface, "Add", "xx", "-2", "40"])
            == json(#"{"type":"x","data":[38]}"#))
        let echoed = try service.busctlJSON([
            "--", "call", TestAPI.name, TestAPI.path, TestAPI.interface, "EchoAll", "a(sssyybs)(sttdd)a{sv}(sisxxs)",
            "2", "A", "/dev/sda3", "USR-A", "1", "2", "true", "good", "B", "/dev/sda4", "USR-B", "0", "15", "false", "",
            "stats", "10", "20", "0.5", "2.25",
            "2", "mode", "s", "fast", "list", "au", "2", "1", "2",
            "rec", "-5", "mid", "-9", "9", "end",
        ])
        #expect(try echoed == json("""
            {"type":"a(sssyybs)(sttdd)a{sv}(sisxxs)","data":[
              [["A","/dev/sda3","USR-A",1,2,true,"good"],["B","/dev/sda4","USR-B",0,15,false,""]],
              ["stats",10,20,0.5,2.25],
              {"mode":{"type":"s","data":"fast"},"list":{"type":"au","data":[1,2]}},
              ["rec",-5,"mid",-9,9,"end"]]}
            """))
        let hello = try service.busctl(["call", TestAPI.name, TestAPI.childPath, TestAPI.other, "Hello"])
        #expect(hello.stdout == "s \"hello from org.tandem.Other1\"\n")
    }

    @Test func busctlReadsPropertiesOfEveryType() throws {
        try Integration.requireDBus()
        let service = try TestService()
        let expected: [(String, String)] = [
            ("Byte", #"{"type":"y","data":200}"#),
            ("Flag", #"{"type":"b","data":true}"#),
            ("Short", #"{"type":"n","data":-300}"#),
            ("UShort", #"{"type":"q","data":60000}"#),
            ("Int", #"{"type":"i","data":-70000}"#),
            ("UInt", #"{"type":"u","data":4000000000}"#),
            ("Long", #"{"type":"x","data":-5000000000}"#),
            ("ULong", #"{"type":"t","data":9000000000000000000}"#),
            ("Ratio", #"{"type":"d","data":0.25}"#),
            ("Name", #"{"type":"s","data":"initial"}"#),
            ("Path", #"{"type":"o","data":"/org/tandem/Test/child"}"#),
            ("Sig", #"{"type":"g","data":"a{sv}"}"#),
            ("Slots", #"{"type":"a(sssyybs)","data":[["A","/dev/sda3","USR-A",1,2,true,"good"],["B","/dev/sda4","USR-B",0,15,false,""]]}"#),
            ("Stats", #"{"type":"(sttdd)","data":["stats",10,20,0.5,2.25]}"#),
            ("Extra", #"{"type":"a{sv}","data":{"mode":{"type":"s","data":"fast"},"list":{"type":"au","data":[1,2]},"#
                + #""pair":{"type":"(ib)","data":[-1,true]},"nested":{"type":"a{sv}","data":{"inner":{"type":"v","data":{"type":"y","data":7}}}}}}"#),
            ("Empty", #"{"type":"as","data":[]}"#),
            ("Version", #"{"type":"s","data":"1.0"}"#),
            ("Counter", #"{"type":"t","data":0}"#),
        ]
        for (property, value) in expected {
            let actual = try service.busctlJSON(["get-property", TestAPI.name, TestAPI.path, TestAPI.interface, property])
            #expect(actual == (try json(value)), "\(property)")
        }
        #expect(try service.busctlJSON(["get-property", TestAPI.name, TestAPI.childPath, TestAPI.other, "Answer"])
            == json(#"{"type":"u","data":42}"#))
    }
}
