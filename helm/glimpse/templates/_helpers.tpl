{{/* Names and labels shared by every object of the chart. */}}

{{/* The chart's name (nameOverride wins), at most 63 characters as Kubernetes names allow. */}}
{{- define "glimpse.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's objects' name: fullnameOverride, else the release name, with the chart's
name appended unless the release name already contains it ("glimpse", not "glimpse-glimpse"). */}}
{{- define "glimpse.fullname" -}}
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

{{- define "glimpse.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that never change for a release: the DaemonSet's selector and the Service's. */}}
{{- define "glimpse.selectorLabels" -}}
app.kubernetes.io/name: {{ include "glimpse.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "glimpse.labels" -}}
helm.sh/chart: {{ include "glimpse.chart" . }}
{{ include "glimpse.selectorLabels" . }}
app.kubernetes.io/component: agent
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "glimpse.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "glimpse.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "glimpse.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}

{{/* The /metrics and /healthz port: the one config.prometheus.address listens on, so the
container port, the probes and the Service cannot disagree with the agent. */}}
{{- define "glimpse.metricsPort" -}}
{{- $address := required "config.prometheus.address is required: the probes use its /healthz" .Values.config.prometheus.address | toString }}
{{- $port := regexFind "[0-9]+$" $address }}
{{- if not $port }}
{{- fail (printf "config.prometheus.address %q must end in :PORT" $address) }}
{{- end }}
{{- $port }}
{{- end }}

{{/* prometheus.io annotations for the object named by prometheus.annotate. */}}
{{- define "glimpse.scrapeAnnotations" -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ include "glimpse.metricsPort" . | quote }}
prometheus.io/path: /metrics
{{- end }}

{{/* OTEL_RESOURCE_ATTRIBUTES: the node (from the NODE_NAME variable, set before it), then
resourceAttributes in key order. */}}
{{- define "glimpse.resourceAttributes" -}}
{{- $attrs := list "k8s.node.name=$(NODE_NAME)" "host.name=$(NODE_NAME)" }}
{{- range $key, $value := .Values.resourceAttributes }}
{{- $attrs = append $attrs (printf "%s=%v" $key $value) }}
{{- end }}
{{- join "," $attrs }}
{{- end }}
