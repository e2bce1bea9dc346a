"""What the portal feed keeps per application: its signer, the document cache and, on
PostgreSQL, the group commit of its requests' writes."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.portal.cache import DocumentCache
from gateway.portal.commits import GroupCommit
from gateway.portal.signing import DocumentSignatures
from gateway.portal.smev import SmevSignatures


@dataclass
class PortalState:
    signer: DocumentSignatures  # enveloped XML-DSig and JWS
    smev: SmevSignatures  # the SMEV 3 profile (GOST)
    cache: DocumentCache
    commits: GroupCommit | None = None  # set at start-up on PostgreSQL

    def key_id(self, fmt: str) -> str:
        """The key that signs ``fmt``: part of its ETags, so a new key re-signs."""
        return self.smev.key_id if fmt == "smev3" else self.signer.key_id
