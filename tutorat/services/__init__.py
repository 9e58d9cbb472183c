"""Business rules. Services never see `request`; views call one service and commit once."""
