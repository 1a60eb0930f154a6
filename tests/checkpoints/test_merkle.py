"""The Merkle tree against RFC 6962 / RFC 9162: known answers, then every (m, n) for small trees.

The known answers are the RFC 6962 test vectors that Certificate Transparency implementations
share (eight leaves: "", 00, 10, 2021, 3031, 40414243, 5051525354555657, 606162...6f): the root
of each prefix, and inclusion and consistency proofs for a few sizes. The exhaustive tests then
check every leaf of every tree up to 32 leaves and every pair of sizes, and that a proof changed
in any way is refused.
"""

from __future__ import annotations

import hashlib

import pytest

from app.checkpoints import merkle

LEAVES = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
H = {
    "l1": "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "l4": "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "l6": "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "n01": "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "n23": "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "n45": "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "n67": "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "n0123": "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "n4567": "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
}


def hashes(n: int) -> list[bytes]:
    return [merkle.leaf_hash(leaf) for leaf in LEAVES[:n]]


def hx(*names: str) -> list[bytes]:
    return [bytes.fromhex(H[name]) for name in names]


def test_leaf_and_node_hashes_carry_the_rfc_prefixes():
    assert merkle.leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


@pytest.mark.parametrize("size", range(9))
def test_roots_of_the_rfc_vectors(size):
    assert merkle.root(hashes(size)).hex() == ROOTS[size]


@pytest.mark.parametrize(
    ("index", "size", "path"),
    [
        (0, 1, []),
        (0, 8, ["l1", "n23", "n4567"]),
        (5, 8, ["l4", "n67", "n0123"]),
        (2, 3, ["n01"]),
        (1, 5, ["0", "n23", "l4"]),
    ],
)
def test_inclusion_proofs_of_the_rfc_vectors(index, size, path):
    want = [merkle.leaf_hash(LEAVES[0]) if name == "0" else bytes.fromhex(H[name]) for name in path]
    assert merkle.inclusion_proof(index, hashes(size)) == want
    assert merkle.verify_inclusion(index, size, hashes(size)[index], want, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        (1, 1, []),
        (1, 8, ["l1", "n23", "n4567"]),
        (6, 8, ["n45", "n67", "n0123"]),
        (2, 5, ["n23", "l4"]),
        (6, 7, ["n45", "l6", "n0123"]),
    ],
)
def test_consistency_proofs_of_the_rfc_vectors(old, new, path):
    proof = merkle.consistency_proof(old, hashes(new))
    assert proof == hx(*path)
    assert merkle.verify_consistency(old, new, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]), proof)


def many(n: int) -> list[bytes]:
    return [merkle.leaf_hash(f"leaf {i}".encode()) for i in range(n)]


def flipped(value: bytes) -> bytes:
    return bytes([value[0] ^ 1]) + value[1:]


@pytest.mark.parametrize("size", range(1, 33))
def test_every_leaf_of_every_small_tree_is_proven_and_a_changed_proof_is_not(size):
    leaves = many(size)
    top = merkle.root(leaves)
    for index in range(size):
        proof = merkle.inclusion_proof(index, leaves)
        assert merkle.verify_inclusion(index, size, leaves[index], proof, top)
        assert not merkle.verify_inclusion(index, size, flipped(leaves[index]), proof, top)
        assert not merkle.verify_inclusion(index, size, leaves[index], proof, flipped(top))
        assert not merkle.verify_inclusion(index, size, leaves[index], [*proof, top], top)
        for at in range(len(proof)):
            changed = [*proof[:at], flipped(proof[at]), *proof[at + 1 :]]
            assert not merkle.verify_inclusion(index, size, leaves[index], changed, top)
            assert not merkle.verify_inclusion(index, size, leaves[index], proof[:at] + proof[at + 1 :], top)
        if size > 1:
            other = (index + 1) % size
            assert not merkle.verify_inclusion(other, size, leaves[index], proof, top)
    assert not merkle.verify_inclusion(size, size, leaves[0], [], top)


@pytest.mark.parametrize("new", range(1, 33))
def test_every_pair_of_sizes_is_consistent_and_a_changed_proof_is_not(new):
    leaves = many(new)
    new_root = merkle.root(leaves)
    for old in range(1, new + 1):
        old_root = merkle.root(leaves[:old])
        proof = merkle.consistency_proof(old, leaves)
        assert merkle.verify_consistency(old, new, old_root, new_root, proof), (old, new)
        assert not merkle.verify_consistency(old, new, flipped(old_root), new_root, proof)
        assert not merkle.verify_consistency(old, new, old_root, flipped(new_root), proof)
        if old < new:
            for at in range(len(proof)):
                changed = [*proof[:at], flipped(proof[at]), *proof[at + 1 :]]
                assert not merkle.verify_consistency(old, new, old_root, new_root, changed)
            # A tree whose first ``old`` leaves were rewritten is not an extension of the old one.
            forked = [flipped(leaves[0]), *leaves[1:]]
            assert not merkle.verify_consistency(
                old, new, old_root, merkle.root(forked), merkle.consistency_proof(old, forked)
            )


def test_proofs_for_sizes_the_tree_does_not_have_are_refused():
    with pytest.raises(merkle.ProofError):
        merkle.inclusion_proof(3, many(3))
    with pytest.raises(merkle.ProofError):
        merkle.consistency_proof(4, many(3))
    assert merkle.consistency_proof(0, many(3)) == []
    assert merkle.verify_consistency(0, 3, merkle.EMPTY_ROOT, merkle.root(many(3)), [])
    assert not merkle.verify_consistency(3, 2, merkle.root(many(3)), merkle.root(many(2)), [])
