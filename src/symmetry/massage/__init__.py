"""The massage guide: acupoints and kneading areas on the person's own face, a printable guide,
and a guided self-massage that writes the massage log (docs/massage.md)."""
