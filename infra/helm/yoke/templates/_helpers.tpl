{{/* Chart name, truncated to the 63 characters a DNS label allows. */}}
{{- define "yoke.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: the release name, prefixed to the chart name unless it already contains it. */}}
{{- define "yoke.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "yoke.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Common labels. */}}
{{- define "yoke.labels" -}}
helm.sh/chart: {{ include "yoke.chart" . }}
app.kubernetes.io/name: {{ include "yoke.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one component: include "yoke.selectorLabels" (dict "ctx" . "component" "server") */}}
{{- define "yoke.selectorLabels" -}}
app.kubernetes.io/name: {{ include "yoke.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "yoke.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The Secret holding DATABASE_URL, REDIS_URL and YOKE_BOOTSTRAP_TOKEN. */}}
{{- define "yoke.secretName" -}}
{{- default (include "yoke.fullname" .) .Values.secret.existingSecret }}
{{- end }}

{{/* Component resource names, e.g. include "yoke.componentName" (dict "ctx" . "component" "server"). */}}
{{- define "yoke.componentName" -}}
{{- printf "%s-%s" (include "yoke.fullname" .ctx) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The in-cluster URL of the server Service (what in-cluster runners connect to). */}}
{{- define "yoke.serverUrl" -}}
{{- $server := include "yoke.componentName" (dict "ctx" . "component" "server") }}
{{- default (printf "http://%s:%v" $server .Values.service.port) .Values.runner.serverUrl }}
{{- end }}

{{/* Team-mode environment shared by the server and the worker. */}}
{{- define "yoke.teamEnv" -}}
- name: NODE_ENV
  value: production
- name: YOKE_EMBEDDED
  value: "0"
- name: LOG_LEVEL
  value: {{ .Values.server.logLevel | quote }}
- name: REDIS_PREFIX
  value: {{ .Values.server.redisPrefix | quote }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "yoke.secretName" . }}
      key: DATABASE_URL
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "yoke.secretName" . }}
      key: REDIS_URL
{{- end }}

{{/* Rolls the pods when the chart-managed Secret changes. */}}
{{- define "yoke.secretChecksum" -}}
{{- if not .Values.secret.existingSecret -}}
checksum/secret: {{ include (print $.Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- end }}
