"""What the broker and the agency consumers both need and the I/O-free contract must not hold.

`schemas/` is pure data: it says what an envelope, a topic name or a key id looks like. The code
that acts on those formats with keys, files and network clients lives here, once, because the
consumers may not import the broker and the broker should not copy the consumers.

    sealing.py    HPKE seal and open of the envelope, the broker signature, the opening errors
    notice.py     signing and verifying the broker's withdrawal, correction and erasure notices
    kem.py        the recipient keys a suite seals to: X25519, or the hybrid ML-KEM-768 + X25519
    keyfiles.py   key ids, 0600 private files, the agency key directory, the broker signing history
    kafka.py      aiokafka client settings, topic settings and idempotent topic creation
"""
