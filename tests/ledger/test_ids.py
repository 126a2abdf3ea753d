"""bd's hash ids: the published test vectors, adaptive length, child ids, prefixes."""

from vermas.ledger import ids

# internal/idgen/hash_test.go (bd v0.43): ts 2024-01-02T03:04:05.006Z
VECTOR_NS = 1_704_164_645_006_000_000
EXPECTED = ["bd-vju", "bd-8d8e", "bd-bi3tk", "bd-8bi3tk", "bd-r5sr6bm", "bd-8r5sr6bm"]


def test_hash_id_matches_bd_published_vectors():
    got = [ids.hash_id("bd", "Fix login", "Details", "jira-import", VECTOR_NS, 0, n) for n in range(3, 9)]
    assert got == EXPECTED


def test_adaptive_length_thresholds_match_bd():
    # 3 chars up to ~160 issues, 4 up to ~980, 5 up to ~5.9K, 6 up to ~35K (beads.md §3)
    assert ids.adaptive_length(0) == 3
    assert ids.adaptive_length(163) == 3
    assert ids.adaptive_length(164) == 4
    assert ids.adaptive_length(983) == 4
    assert ids.adaptive_length(984) == 5
    assert ids.adaptive_length(5_898) == 5
    assert ids.adaptive_length(5_899) == 6
    assert ids.adaptive_length(10**9) == 8


def test_generate_skips_taken_candidates_with_nonces():
    first = ids.generate("bd", "t", "d", "me", 1, set(), 0)
    second = ids.generate("bd", "t", "d", "me", 1, {first}, 0)
    assert second != first
    assert second == ids.hash_id("bd", "t", "d", "me", 1, 1, 3)


def test_child_ids_and_prefix_extraction():
    assert ids.is_hierarchical("bd-abc.3")
    assert not ids.is_hierarchical("bd-abc")
    assert ids.parent_of("bd-abc.3.1") == "bd-abc.3"
    assert ids.depth("bd-abc.3.1") == 2
    assert ids.prefix_of("gt-gastown-polecat-nux") == "gt"
    assert ids.prefix_of("beads-vscode-1") == "beads-vscode"
    assert ids.prefix_of("web-app-a3f8e9") == "web-app"
    assert ids.prefix_of("hq-cv-abc12") == "hq-cv"
    assert ids.prefix_of("bd-a3f.2") == "bd"
