"""The pilot office (试点办): onboarding organizations and users, the roster import, the audit log, the dashboard."""
