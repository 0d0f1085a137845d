/** ECharts, tree-shaken: only the charts and components the wall draws, on the canvas renderer. */
import { BarChart, LineChart, PieChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import * as echarts from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'

echarts.use([BarChart, LineChart, PieChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer])

export { echarts }
export type EChartsOption = echarts.EChartsCoreOption

/** Chart text colours (theme.css --gc-text / --gc-text-2). */
export const CHART_TEXT = '#ffffff'
export const CHART_TEXT_2 = '#c4d6ee'
export const CHART_GRID_LINE = 'rgba(0, 229, 255, 0.12)'
export const SERIES_COLORS = { reported: '#56b4e9', closed: '#2ec4a0' } as const
