"""commitments feature: the 承诺达标合格证 a producer issues for one batch (农业农村部令2025年第4号)."""
