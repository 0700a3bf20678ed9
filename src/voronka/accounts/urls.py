from django.contrib.auth import views as auth_views
from django.urls import path

from . import settings_views, views

app_name = "accounts"
urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/profile/", views.profile, name="profile"),
    path("accounts/profile/tokens/<int:token_id>/revoke/", views.revoke_token, name="revoke_token"),
    # Settings: people and teams (settings_views.py)
    path("settings/users/", settings_views.users, name="settings_users"),
    path("settings/users/new/", settings_views.user_create, name="settings_user_create"),
    path("settings/users/<int:user_id>/", settings_views.user_edit, name="settings_user_edit"),
    path("settings/teams/", settings_views.teams, name="settings_teams"),
    path("settings/teams/<int:team_id>/", settings_views.team_edit, name="settings_team_edit"),
]
